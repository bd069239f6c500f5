from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "epidispatch.registry"
    verbose_name = _("Resident registry")

    def ready(self):
        from . import checks  # noqa: F401  (registers the data key check)
