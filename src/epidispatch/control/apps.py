from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ControlConfig(AppConfig):
    name = "epidispatch.control"
    verbose_name = _("Key-population control")

    def ready(self):
        from .services import case_tests_from_result
        from .signals import test_result_reported

        test_result_reported.connect(
            case_tests_from_result, dispatch_uid="control.case_tests_from_result"
        )
