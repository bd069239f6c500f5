from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "epidispatch.audit"
    verbose_name = _("Audit log")

    def ready(self):
        from . import receivers  # noqa: F401  (connects the login receivers)
