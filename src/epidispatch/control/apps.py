from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ControlConfig(AppConfig):
    name = "epidispatch.control"
    verbose_name = _("Key-population control")
