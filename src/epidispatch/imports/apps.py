from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "epidispatch.imports"
    verbose_name = _("Imports")

    def ready(self):
        """Every app declares its file kinds in its own `imports` module (as admin.py
        registers models): load them all so the web page and the ledger know each kind."""
        autodiscover_modules("imports")
