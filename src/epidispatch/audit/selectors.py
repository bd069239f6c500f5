"""Who may read the audit trail, and the trail itself: dispatchers, for the units under
their dispatcher roles, events and changes together, newest first."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from heapq import merge

from auditlog.registry import auditlog
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db.models import BooleanField, DateTimeField, Field, ForeignObjectRel, Q
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from epidispatch.core.bounds import MAX_BIGINT
from epidispatch.core.scoping import paths_q
from epidispatch.orgunits.models import OrgUnit

from .models import (
    PROCESS_KEYS,
    PUBLIC_KEY,
    TASK_KEY,
    AuditAction,
    AuditEntry,
    Change,
    tracked_by_hand,
)
from .permissions import _dispatcher_paths, reads_unfiled_entries

#: The `kind` of a change is its record's model, written "app_label.model".
CHANGE_KIND_SEPARATOR = "."


def audit_kinds() -> list[tuple[str, str]]:
    """Every kind the trail can be filtered by: the events, then a change of each tracked
    kind of record (by django-auditlog, or by hand as a screening tube)."""
    changes = [
        (
            f"{model._meta.app_label}.{model._meta.model_name}",
            _("Change: %(record)s") % {"record": model._meta.verbose_name},
        )
        for model in sorted(
            {*auditlog.get_models(), *tracked_by_hand()}, key=lambda m: m._meta.label
        )
    ]
    return [*((value, str(label)) for value, label in AuditAction.choices), *changes]


@dataclass
class FieldChange:
    """One field of a change: its label and each value as a reader says it (a choice's
    label, a related record's name, yes or no), with the value as stored kept beside."""

    label: str
    before: str
    after: str
    before_raw: object
    after_raw: object


@dataclass
class TrailRow:
    at: datetime
    who: str
    kind: str
    subject: str
    ip_address: str | None
    changes: list[FieldChange] = field(default_factory=list)


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
    filed under no unit are shown, when no unit is asked for, to the dispatchers of a
    root of the tree only (`reads_unfiled_entries`).
    """
    paths = _dispatcher_paths(user)
    if filters.unit_code:
        unit = OrgUnit.objects.filter(code=filters.unit_code).first()
        if unit is None or not any(unit.path.startswith(root) for root in paths):
            message = _("No org unit %(code)s within your units.")
            raise Http404(message % {"code": filters.unit_code})
        where = Q(unit_path__startswith=unit.path)
    else:
        where = paths_q(paths, "unit_path")
        if reads_unfiled_entries(user):
            where |= Q(unit_path="")
    window = offset + limit
    events = _events(where, filters)[:window] if _wants_events(filters.kind) else []
    changes = _changes(where, filters)[:window] if _wants_changes(filters.kind) else []
    changes = list(changes)
    names = _related_names(changes)
    rows = merge(
        (_event_row(entry) for entry in events),
        (_change_row(change, names) for change in changes),
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
        who=entry.who,
        kind=str(entry.get_action_display()),
        subject=entry.subject,
        ip_address=entry.ip_address,
    )


def _change_row(change: Change, names: dict) -> TrailRow:
    model = change.content_type.model_class()
    verb = {
        Change.Action.CREATE: pgettext("audit trail", "created"),
        Change.Action.UPDATE: pgettext("audit trail", "changed"),
        Change.Action.DELETE: pgettext("audit trail", "deleted"),
    }.get(change.action, pgettext("audit trail", "read"))
    return TrailRow(
        at=change.timestamp,
        who=str(change.actor) if change.actor_id else _made_by(change.additional_data or {}),
        kind=f"{model._meta.verbose_name if model else change.content_type} · {verb}",
        subject=change.object_repr,
        ip_address=change.remote_addr,
        changes=_field_changes(model, change.changes or {}, names),
    )


def _made_by(data: dict) -> str:
    """Who made a change no user made: the queued task or the command and the account that
    ran it, a page nobody was logged in to, or (changes recorded before either was kept)
    the system."""
    command, account = (str(data.get(key) or "")[:150] for key in PROCESS_KEYS)
    task = str(data.get(TASK_KEY) or "")[:150]
    if task and account:
        return _("Task %(task)s (%(account)s)") % {"task": task, "account": account}
    if command and account:
        return _("Command %(command)s (%(account)s)") % {"command": command, "account": account}
    if account:
        return _("Command line (%(account)s)") % {"account": account}
    if data.get(PUBLIC_KEY):
        return _("Public page (not logged in)")
    return _("the system")


def _stored_pairs(changes: dict) -> dict[str, list]:
    return {
        name: values
        for name, values in changes.items()
        if isinstance(values, list) and len(values) == 2
    }


def _generic_relations(model) -> list[GenericForeignKey]:
    if model is None:
        return []
    return [f for f in model._meta.private_fields if isinstance(f, GenericForeignKey)]


def _field_changes(model, changes: dict, names: dict) -> list[FieldChange]:
    """Each changed field as a reader says it, sorted by label. The two columns of a
    generic relation (its type and its id) read as one "linked record" field."""
    pairs = {
        name: values for name, values in _stored_pairs(changes).items() if not _reverse(model, name)
    }
    rows = []
    for relation in _generic_relations(model):
        pairs.pop(relation.name, None)
        type_pair = pairs.pop(relation.ct_field, None)
        id_pair = pairs.pop(relation.fk_field, None)
        if type_pair is None and id_pair is None:
            continue
        stored = (
            ([None, None] if type_pair is None else type_pair),
            ([None, None] if id_pair is None else id_pair),
        )
        shown = [_linked_record(stored[0][i], stored[1][i], names) for i in (0, 1)]
        rows.append(
            FieldChange(
                label=pgettext("audit trail", "linked record"),
                before=shown[0],
                after=shown[1],
                before_raw=f"{stored[0][0]}:{stored[1][0]}",
                after_raw=f"{stored[0][1]}:{stored[1][1]}",
            )
        )
    for name, (before, after) in pairs.items():
        model_field = _model_field(model, name)
        rows.append(
            FieldChange(
                label=str(model_field.verbose_name) if model_field else name,
                before=_shown(model_field, before, names),
                after=_shown(model_field, after, names),
                before_raw=before,
                after_raw=after,
            )
        )
    return sorted(rows, key=lambda row: row.label)


def _reverse(model, name: str) -> bool:
    """Whether `name` is another record's link to this one (a case's events): not a value
    of this record, though django-auditlog may store it."""
    try:
        return isinstance(model._meta.get_field(name), ForeignObjectRel)
    except (FieldDoesNotExist, AttributeError):
        return False


def _model_field(model, name: str) -> Field | None:
    """The model's own column of that name (not a reverse or generic relation), if any."""
    try:
        found = model._meta.get_field(name)
    except (FieldDoesNotExist, AttributeError):
        return None
    if not isinstance(found, Field) or not found.concrete:
        return None
    return found


#: How a stored JSON value reads when it is empty.
EMPTY = "—"


def _shown(model_field, value, names: dict) -> str:
    """A stored value as the pages show it: a choice by its label, a related record by its
    name (its id when it is gone), yes or no; other values as stored."""
    if value is None or value == "" or value == "None":
        return EMPTY
    if model_field is None:
        return str(value)
    if model_field.related_model is not None:
        related = model_field.related_model
        return names.get((related, str(value))) or f"{related._meta.verbose_name} #{value}"
    if model_field.choices:
        labels = {str(key): label for key, label in model_field.flatchoices}
        return str(labels.get(str(value), value))
    if isinstance(model_field, DateTimeField):
        moment = parse_datetime(str(value))
        if moment is not None:
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment, UTC)
            return f"{timezone.localtime(moment):%Y-%m-%d %H:%M:%S}"
    if isinstance(model_field, BooleanField):
        truth = value if isinstance(value, bool) else str(value).lower() in ("true", "1")
        return _("Yes") if truth else _("No")
    return str(value)


def _linked_record(type_id, object_id, names: dict) -> str:
    if type_id in (None, "", "None"):
        return EMPTY
    content_type = ContentType.objects.get_for_id(int(type_id))
    model = content_type.model_class()
    if model is None:
        return f"{content_type} #{object_id}"
    if object_id in (None, "", "None"):
        return str(model._meta.verbose_name)
    name = names.get((model, str(object_id)))
    return name or f"{model._meta.verbose_name} #{object_id}"


def _related_names(changes: list[Change]) -> dict[tuple[type, str], str]:
    """The name of every record the page's changes point to, one query per kind of record
    (never one per row): {(model, stored id): name}."""
    wanted: dict[type, set[str]] = {}
    for change in changes:
        model = change.content_type.model_class()
        pairs = _stored_pairs(change.changes or {})
        for relation in _generic_relations(model):
            for type_id, object_id in zip(
                pairs.get(relation.ct_field, [None, None]),
                pairs.get(relation.fk_field, [None, None]),
                strict=True,
            ):
                if type_id not in (None, "", "None") and object_id not in (None, "", "None"):
                    linked = ContentType.objects.get_for_id(int(type_id)).model_class()
                    if linked is not None:
                        wanted.setdefault(linked, set()).add(str(object_id))
        for name, values in pairs.items():
            model_field = _model_field(model, name)
            if model_field is None or model_field.related_model is None:
                continue
            for value in values:
                if value not in (None, "", "None"):
                    wanted.setdefault(model_field.related_model, set()).add(str(value))
    names = {}
    for model, ids in wanted.items():
        valid = [pk for pk in ids if pk.isdigit() and int(pk) <= MAX_BIGINT]
        for record in model._default_manager.filter(pk__in=valid):
            names[(model, str(record.pk))] = _record_name(record)
    return names


def _record_name(record) -> str:
    if isinstance(record, ContentType):
        model = record.model_class()
        return str(model._meta.verbose_name) if model else str(record)
    return str(record)
