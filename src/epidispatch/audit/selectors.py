"""Who may read the audit trail, and the trail itself: dispatchers, for the units under
their dispatcher roles, events and changes together, newest first."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from heapq import merge

from auditlog.registry import auditlog
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from epidispatch.core.scoping import paths_q
from epidispatch.orgunits.models import OrgUnit

from .models import AuditAction, AuditEntry, Change
from .permissions import _dispatcher_paths

#: The `kind` of a change is its record's model, written "app_label.model".
CHANGE_KIND_SEPARATOR = "."


def audit_kinds() -> list[tuple[str, str]]:
    """Every kind the trail can be filtered by: the events, then a change of each tracked
    kind of record."""
    changes = [
        (
            f"{model._meta.app_label}.{model._meta.model_name}",
            _("Change: %(record)s") % {"record": model._meta.verbose_name},
        )
        for model in sorted(auditlog.get_models(), key=lambda m: m._meta.label)
    ]
    return [*((value, str(label)) for value, label in AuditAction.choices), *changes]


@dataclass
class TrailRow:
    at: datetime
    who: str
    kind: str
    subject: str
    ip_address: str | None
    changes: list[tuple[str, object, object]] = field(default_factory=list)


@dataclass
class TrailFilters:
    unit_code: str = ""
    username: str = ""
    kind: str = ""
    since: date | None = None
    until: date | None = None


def audit_trail(user, filters: TrailFilters, *, limit: int, offset: int = 0) -> list[TrailRow]:
    """The entries of the trail the user may read that match `filters`, newest first,
    `limit` of them after skipping `offset`.

    A unit outside the dispatcher's units answers 404, like every scoped read. Entries
    filed under no unit (a failed login with an unknown name, a snapshot of every
    county) are shown when no unit is asked for.
    """
    paths = _dispatcher_paths(user)
    if filters.unit_code:
        unit = OrgUnit.objects.filter(code=filters.unit_code).first()
        if unit is None or not any(unit.path.startswith(root) for root in paths):
            message = _("No org unit %(code)s within your units.")
            raise Http404(message % {"code": filters.unit_code})
        where = Q(unit_path__startswith=unit.path)
    else:
        where = paths_q(paths, "unit_path") | Q(unit_path="") if paths else Q(pk__in=[])
    window = offset + limit
    events = _events(where, filters)[:window] if _wants_events(filters.kind) else []
    changes = _changes(where, filters)[:window] if _wants_changes(filters.kind) else []
    rows = merge(
        (_event_row(entry) for entry in events),
        (_change_row(change) for change in changes),
        key=lambda row: row.at,
        reverse=True,
    )
    return list(rows)[offset:window]


def _wants_events(kind: str) -> bool:
    return not kind or CHANGE_KIND_SEPARATOR not in kind


def _wants_changes(kind: str) -> bool:
    return not kind or CHANGE_KIND_SEPARATOR in kind


def _day_bounds(filters: TrailFilters, field_name: str) -> Q:
    condition = Q()
    if filters.since:
        condition &= Q(**{f"{field_name}__gte": _start_of(filters.since)})
    if filters.until:
        condition &= Q(**{f"{field_name}__lt": _start_of(filters.until + timedelta(days=1))})
    return condition


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _events(where: Q, filters: TrailFilters):
    entries = AuditEntry.objects.filter(where, _day_bounds(filters, "at")).select_related("user")
    if filters.username:
        entries = entries.filter(user__username=filters.username)
    if filters.kind:
        entries = entries.filter(action=filters.kind)
    return entries.order_by("-at", "-pk")


def _changes(where: Q, filters: TrailFilters):
    changes = Change.objects.filter(where, _day_bounds(filters, "timestamp")).select_related(
        "actor", "content_type"
    )
    if filters.username:
        changes = changes.filter(actor__username=filters.username)
    if filters.kind:
        app_label, _dot, model = filters.kind.partition(CHANGE_KIND_SEPARATOR)
        changes = changes.filter(content_type__app_label=app_label, content_type__model=model)
    return changes.order_by("-timestamp", "-pk")


def _event_row(entry: AuditEntry) -> TrailRow:
    return TrailRow(
        at=entry.at,
        who=str(entry.user) if entry.user_id else "—",
        kind=str(entry.get_action_display()),
        subject=entry.subject,
        ip_address=entry.ip_address,
    )


def _change_row(change: Change) -> TrailRow:
    model = change.content_type.model_class()
    verb = {
        Change.Action.CREATE: pgettext("audit trail", "created"),
        Change.Action.UPDATE: pgettext("audit trail", "changed"),
        Change.Action.DELETE: pgettext("audit trail", "deleted"),
    }.get(change.action, pgettext("audit trail", "read"))
    return TrailRow(
        at=change.timestamp,
        who=str(change.actor) if change.actor_id else _("the system"),
        kind=f"{model._meta.verbose_name if model else change.content_type} · {verb}",
        subject=change.object_repr,
        ip_address=change.remote_addr,
        changes=[
            (_field_label(model, name), *values)
            for name, values in sorted((change.changes or {}).items())
            if isinstance(values, list) and len(values) == 2
        ],
    )


def _field_label(model, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except (FieldDoesNotExist, AttributeError):
        return name
