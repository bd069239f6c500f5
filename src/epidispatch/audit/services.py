"""Writing events to the audit trail. Changes to records are written by django-auditlog
(see models.Change); these are the events no record change shows."""

import contextlib
import contextvars
import ipaddress

from auditlog.context import auditlog_disabled, auditlog_value, set_actor
from auditlog.diff import get_field_value, is_primitive, model_instance_diff
from django.contrib.auth import get_user_model
from django.utils.encoding import smart_str
from django.utils.translation import gettext as _

from epidispatch.core import process

from .models import AuditAction, AuditEntry, Change, batched_changes


def audit_record(
    *, user, action: str, subject: str, unit_path: str, ip_address=None, actor: str = ""
):
    """One event; `actor` names who acted when no user did (`command_line_actor()`)."""
    return AuditEntry.objects.create(
        user=user,
        action=action,
        subject=subject,
        unit_path=unit_path,
        ip_address=ip_address,
        actor=actor[:150],
    )


def command_line_actor() -> str:
    """The operating-system account running this process: who ran a command given no
    `--user` (the trail then shows "command line (account)")."""
    return process.os_account()


def client_ip(request) -> str | None:
    """The address the request came from: the first X-Forwarded-For hop behind a proxy,
    else REMOTE_ADDR; anything that is not an IP address is dropped, never stored."""
    forwarded = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()
    for candidate in (forwarded, request.META.get("REMOTE_ADDR", "")):
        with contextlib.suppress(ValueError):
            return str(ipaddress.ip_address(candidate))
    return None


def audit_login(*, user, ip_address: str | None) -> AuditEntry:
    return audit_record(
        user=user,
        action=AuditAction.LOGIN,
        subject=user.get_username(),
        unit_path=user.audit_unit_path(),
        ip_address=ip_address,
    )


def audit_login_failed(*, username: str, ip_address: str | None) -> AuditEntry:
    """A wrong password for a known user is filed under that user's unit; an unknown name
    is not kept (it is often a password typed into the wrong box)."""
    username = (username or "")[:150]
    user = get_user_model().objects.filter(username=username).first()
    return audit_record(
        user=user,
        action=AuditAction.LOGIN_FAILED,
        subject=username if user else _("(unknown user name)"),
        unit_path=user.audit_unit_path() if user else "",
        ip_address=ip_address,
    )


def audit_export(*, user, what: str, unit, ip_address: str | None) -> AuditEntry:
    """A list of people downloaded as a file: what, of which unit, by whom."""
    return audit_record(
        user=user,
        action=AuditAction.EXPORT_LIST,
        subject=f"{what} · {unit.name} {unit.code}"[:120],
        unit_path=unit.path,
        ip_address=ip_address,
    )


def attribute_changes_to(user) -> None:
    """Make the changes of this request carry `user` in the trail.

    django-auditlog's middleware takes the actor from the session before the view runs;
    an API call authenticated by a bearer token only knows its user later, in the API's
    auth step, which calls this.
    """
    with contextlib.suppress(LookupError):
        auditlog_value.get()["actor"] = user


def run_as(user, function, /, *args, **kwargs):
    """Call `function` with the changes it makes credited to `user` on the trail, as those
    of a request of theirs are: for work a user queued (a file uploaded on the web that the
    task queue imports).

    django-auditlog's `set_actor` (3.4) sets its context variable and never resets it: in a
    queue worker's thread the actor would stay for the next task. Run in a copy of the
    context, the setting ends with the call."""

    def credited():
        with set_actor(user):
            return function(*args, **kwargs)

    return contextvars.copy_context().run(credited)


@contextlib.contextmanager
def changes_batched():
    """Write the change-trail entries made inside this block (django-auditlog's, on save,
    and `change_record_*`'s) in one multi-row INSERT when it ends without an error; an
    error drops them with the rest of the caller's transaction, which must enclose the
    block. The rows are those the saves would have written: same content, actor, remote
    address, unit and origin. A block inside another joins the outer one.

    For a write path that leaves two or more entries (a visit that changes a status): one
    statement and no per-entry save and signals instead of one each."""
    if batched_changes.get() is not None:
        yield
        return
    pending: list[Change] = []
    token = batched_changes.set(pending)
    try:
        yield
    finally:
        batched_changes.reset(token)
    if pending:
        Change.objects.bulk_create(pending)


def change_record_created(instance) -> None:
    """Put a record inserted without a save signal (the bulk path a dose recorded at a site
    shares with imports) on the change trail, as django-auditlog does for a save."""
    Change.objects.log_create(
        instance,
        action=Change.Action.CREATE,
        changes=model_instance_diff(None, instance, use_json_for_changes=True),
    )


def change_record_updated(before, after, *, fields=None) -> None:
    """Put a record updated without a save signal (one UPDATE statement, where a save would
    read the row again for django-auditlog) on the change trail, as django-auditlog does
    for a save: the fields that differ between `before` and `after`, if any. `fields`:
    the only ones the caller changed (the others are not compared), as a save's
    `update_fields` tells django-auditlog."""
    with contextlib.suppress(LookupError):
        if auditlog_disabled.get():
            return
    changes = model_instance_diff(before, after, fields_to_check=fields, use_json_for_changes=True)
    if changes:
        Change.objects.log_create(after, action=Change.Action.UPDATE, changes=changes)


def change_record_fields(before, after, fields) -> None:
    """Put the named fields that differ between `before` and `after` on the change trail,
    for a record django-auditlog does not follow on every save (a screening tube, filled
    a sample at a time, is on the trail only for the chain's steps), as it would write
    them."""
    with contextlib.suppress(LookupError):
        if auditlog_disabled.get():
            return
    changes = {}
    for name in fields:
        field = after._meta.get_field(name)
        old = get_field_value(before, field, use_json_for_changes=True)
        new = get_field_value(after, field, use_json_for_changes=True)
        if old != new:
            changes[name] = [
                value if is_primitive(value) else smart_str(value) for value in (old, new)
            ]
    if changes:
        Change.objects.log_create(after, action=Change.Action.UPDATE, changes=changes)
