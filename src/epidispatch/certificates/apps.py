from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    name = "epidispatch.certificates"
    verbose_name = _("Vaccination certificates")

    def ready(self):
        from epidispatch.vaccination.signals import dose_changed

        from .services import certificates_reissue

        dose_changed.connect(certificates_reissue, dispatch_uid="certificates.reissue")
