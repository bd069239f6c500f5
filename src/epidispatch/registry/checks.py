"""Start-up check: refuse to run with a data key that does not decrypt the stored data."""

from django.conf import settings
from django.core.checks import Error, register
from django.db import DatabaseError
from django.utils.translation import gettext as _

from .selectors import data_key_decrypts_stored_data


def data_key_error() -> str | None:
    """The message saying the data key is wrong, or None when it is right (or when there is
    no database to check yet: before `migrate`, or with the database down)."""
    try:
        matches = data_key_decrypts_stored_data()
    except DatabaseError:
        return None
    if matches:
        return None
    return _(
        "The data key (EPIDISPATCH_DATA_KEY, or data.key in %(folder)s) does not decrypt the "
        "ID numbers stored in this database. Put back the data key this database was "
        "written with (it is in the backup: epidispatch restore); the platform will not "
        "start with another key."
    ) % {"folder": settings.DATA_DIR}


@register()
def data_key_check(app_configs=None, **kwargs):
    message = data_key_error()
    return [Error(message, id="epidispatch.E001")] if message else []
