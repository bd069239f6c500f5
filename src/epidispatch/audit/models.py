"""The audit trail, in two tables that are only ever appended to.

`AuditEntry`: events — a view of personal data in clear (PIPL), a list exported, a login,
a failed login, a dose corrected or deleted with its reason, an import batch.
`Change`: the before and after of every save and delete of the tracked records (settings
AUDITLOG_INCLUDE_TRACKING_MODELS), written by django-auditlog whether the change comes
from a page, the API, the admin or a command.

Both carry the path of the org unit the record belongs to, so a dispatcher reads the
trail of their own units only.
"""

from contextvars import ContextVar

from auditlog.context import auditlog_value
from auditlog.models import AbstractLogEntry, LogEntryManager
from django.conf import settings
from django.db import models
from django.db.models.signals import pre_save
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epidispatch.core import process


class AuditAction(models.TextChoices):
    UNMASK_RESIDENT = "unmask_resident", _("Viewed a resident's ID number and phone unmasked")
    CORRECT_DOSE = "correct_dose", _("Corrected a dose")
    DELETE_DOSE = "delete_dose", _("Deleted a dose")
    IMPORT_FILE = "import_file", _("Imported a file")
    LOGIN = "login", _("Logged in")
    LOGIN_FAILED = "login_failed", _("Failed to log in")
    EXPORT_LIST = "export_list", _("Exported a list")
    UNMASK_KEY_PERSON = "unmask_key_person", _("Viewed a key person's ID number and phone")
    REGISTER_CONTROL_CASE = "register_control_case", _("Put a person under control measures")
    RELEASE_CONTROL_CASE = "release_control_case", _("Released a person from control measures")
    ISSUE_CERTIFICATE = "issue_certificate", _("Issued a vaccination certificate")
    REVOKE_CERTIFICATE = "revoke_certificate", _("Revoked a vaccination certificate")


class AuditEntry(models.Model):
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="audit_entries",
        null=True,
        blank=True,
        help_text=_("empty for a failed login with an unknown user name or a command"),
    )
    actor = models.CharField(
        _("command-line account"),
        max_length=150,
        blank=True,
        default="",
        help_text=_("the operating-system account of a command run with no user"),
    )
    action = models.CharField(_("action"), max_length=32, choices=AuditAction.choices)
    subject = models.CharField(_("subject"), max_length=120, help_text=_("masked, never in clear"))
    unit_path = models.CharField(_("unit of the subject"), max_length=255, db_index=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.who} {self.get_action_display()} {self.subject}"

    @property
    def who(self) -> str:
        """The user, or for a command run with no user the account that ran it."""
        if self.user_id:
            return str(self.user)
        if self.actor:
            return _("Command line (%(account)s)") % {"account": self.actor}
        return "—"


#: The changes of the current `audit.services.changes_batched()` block, or None outside one.
batched_changes: ContextVar[list | None] = ContextVar("audit_changes_batched", default=None)


class ChangeManager(LogEntryManager):
    """django-auditlog's manager; inside `audit.services.changes_batched()` the entries it
    creates (its save signals' and `log_create`'s) are kept and inserted together when the
    block ends, as the same rows a save would have written."""

    def create(self, **kwargs):
        pending = batched_changes.get()
        if pending is None:
            return super().create(**kwargs)
        change = self.model(**kwargs)
        # What a save would fill in: django-auditlog's actor and remote address (its
        # request context listens to this signal), then `Change.save`'s unit and origin.
        pre_save.send(sender=self.model, instance=change, raw=False, using=self.db)
        change.fill_origin()
        pending.append(change)
        return change


class Change(AbstractLogEntry):
    """One save or delete of a tracked record: who, when, and each field before and after."""

    objects = ChangeManager()

    unit_path = models.CharField(
        _("unit of the record"), max_length=255, blank=True, default="", db_index=True
    )

    class Meta(AbstractLogEntry.Meta):
        verbose_name = pgettext_lazy("audit trail", "change")
        verbose_name_plural = pgettext_lazy("audit trail", "changes")
        ordering = ["-timestamp"]

    def save(self, *args, **kwargs):
        """The unit comes from the record's `get_additional_data()` (auditlog's hook).
        A change made outside any request keeps what made it (`PROCESS_KEYS`: the command
        and the operating-system account, as an event names them, and `TASK_KEY`, the
        queued task); one made by a page
        nobody is logged in to (a resident booking) says so (`PUBLIC_KEY`)."""
        if self._state.adding:
            self.fill_origin()
        else:
            self.unit_path = (self.additional_data or {}).get("unit_path", "")
        super().save(*args, **kwargs)

    def fill_origin(self) -> None:
        """The unit and what made a new change (see `save`)."""
        self.unit_path = (self.additional_data or {}).get("unit_path", "")
        self.additional_data = {**(self.additional_data or {}), **_made_by()}


#: `additional_data` keys of a change made outside any request (the task, when a queued
#: task made it), and of one made by a page with nobody logged in.
PROCESS_KEYS = ("command", "os_account")
TASK_KEY = "task"
PUBLIC_KEY = "public_page"


def _made_by() -> dict:
    if not process.in_request():
        made_by = dict(
            zip(PROCESS_KEYS, (process.command_name(), process.os_account()), strict=True)
        )
        if process.task_name():
            made_by[TASK_KEY] = process.task_name()
        return made_by
    try:
        actor = auditlog_value.get().get("actor")
    except LookupError:
        actor = None
    return {} if actor is not None else {PUBLIC_KEY: True}


#: Records django-auditlog does not follow on every save, whose services put some of their
#: writes on the trail by hand (`services.change_record_fields`: a screening tube, filled a
#: sample at a time, is on it for the chain's steps). Their apps list them here so that the
#: trail can be filtered by their kind as by a tracked record's.
_TRACKED_BY_HAND: set[type[models.Model]] = set()


def track_by_hand(model: type[models.Model]) -> None:
    _TRACKED_BY_HAND.add(model)


def tracked_by_hand() -> set[type[models.Model]]:
    return set(_TRACKED_BY_HAND)
