from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreeningConfig(AppConfig):
    name = "epidispatch.screening"
    verbose_name = _("Nucleic-acid screening")
