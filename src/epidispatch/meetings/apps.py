from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "epidispatch.meetings"
    verbose_name = _("Meetings and action items")

    def ready(self):
        # The role lookup (accounts, below this app) reads the working groups with the
        # roles: the menu asks about them on every page.
        from epidispatch.core.scoping import membership_install

        from .permissions import WORKING_GROUPS, working_groups_of_member

        membership_install(WORKING_GROUPS, working_groups_of_member)
