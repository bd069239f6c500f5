"""Argument parsing shared by the sites commands: the acting user, days and times."""

from datetime import date, datetime, time

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from epidispatch.orgunits.models import OrgUnit


def acting_user(username: str):
    user = get_user_model().objects.filter(username=username[:150], is_active=True).first()
    if user is None:
        raise CommandError(_("No active user %(username)s.") % {"username": username})
    return user


def unit(code: str) -> OrgUnit:
    found = OrgUnit.objects.filter(code=code[:15]).first()
    if found is None:
        raise CommandError(_("No org unit %(code)s.") % {"code": code})
    return found


def day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(
            _("%(text)s is not a date written YYYY-MM-DD.") % {"text": text}
        ) from None


def clock(text: str) -> time:
    try:
        return datetime.strptime(text, "%H:%M").time()
    except ValueError:
        raise CommandError(_("%(text)s is not a time written HH:MM.") % {"text": text}) from None
