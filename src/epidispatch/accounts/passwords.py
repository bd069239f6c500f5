"""The password policy beyond Django's validators."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

#: The one password every demo account shares (printed by `load_demo`, in the README).
DEMO_PASSWORD = "demo-2021"


class NotTheDemoPasswordValidator:
    """The demo password is public: it is refused everywhere except in the demo itself
    (EPIDISPATCH_DEMO=1)."""

    def validate(self, password, user=None):
        if password == DEMO_PASSWORD and not settings.EPIDISPATCH_DEMO:
            raise ValidationError(
                _("This is the public password of the demo accounts; choose another."),
                code="demo_password",
            )

    def get_help_text(self):
        return _("Your password cannot be the demo accounts' password.")
