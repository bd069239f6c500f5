"""Writes of nucleic-acid screening: one function per verb, each one transaction.

The derived flags of the target list (sampled, in a positive pool, single-tube result)
are refreshed from the raw samples and tubes for exactly the people a write touches
(`targets_refresh`), so coverage never recounts a whole round. Results reach the people
under control measures through control's batch hook (`test_results_reported`), once per
stored batch of results, never once per sample.
"""

import copy
from collections.abc import Iterable
from datetime import date, datetime, time

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from epidispatch.audit.services import change_record_fields
from epidispatch.control.signals import test_results_reported
from epidispatch.core import protection
from epidispatch.core.ids import mask_id_number, parse_id_number
from epidispatch.orgunits.models import PATH_SEPARATOR, OrgUnit
from epidispatch.registry.models import Resident, ResidentStatus

from .models import (
    CAPACITIES,
    DEFAULT_WINDOW,
    EVERY_DAYS,
    AreaPart,
    GroupKind,
    GroupMember,
    MissedReason,
    MissedSample,
    Result,
    RoundArea,
    RoundTarget,
    Sample,
    ScreeningRound,
    TestingGroup,
    Tube,
    digest_key,
)
from .permissions import collects_for, keeps_group, runs_rounds
from .rules import (
    GROUP_UNIT_KINDS,
    Prior,
    binding_problem,
)

#: Statuses that keep a resident off a round's target list: not living here that day.
NOT_HERE = (ResidentStatus.AWAY, ResidentStatus.DECEASED, ResidentStatus.MOVED_OUT)
#: People refreshed per statement.
CHUNK = 10_000
#: The longest text each field takes (more is refused, never cut silently).
MAX_TEXT = {
    "name": 100, "courier": 60, "box": 40, "lab": 100, "point": 100, "barcode": 40, "note": 200,
    "employer": 100,
}  # fmt: skip


def _require_officer(user, screening_round: ScreeningRound) -> None:
    if user is not None and not runs_rounds(user, screening_round.unit):
        raise PermissionDenied(_("Only screening officers and dispatchers run rounds."))


def _clean_text(value: str, field: str) -> str:
    text = "".join(ch for ch in str(value or "") if ch.isprintable()).strip()
    if len(text) > MAX_TEXT[field]:
        raise ValidationError(
            _("At most %(max)d characters, please.") % {"max": MAX_TEXT[field]}, code=field
        )
    return text


def check_capacity(capacity: int) -> int:
    if capacity not in CAPACITIES:
        raise ValidationError(
            _("A tube holds 1, 5, 10 or 20 people, not %(capacity)s.") % {"capacity": capacity}
        )
    return capacity


@transaction.atomic
def round_create(
    *,
    unit: OrgUnit,
    name: str,
    day: date,
    pool_size: int = 10,
    by=None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> ScreeningRound:
    """Open a round over `unit` and freeze its target list (应检尽检): everyone registered
    under the unit who lives here that day (not away, deceased or moved out). `by` None is
    the command line."""
    if by is not None and not runs_rounds(by, unit):
        raise PermissionDenied(_("Only screening officers and dispatchers run rounds."))
    name = _clean_text(name, "name")
    if not name:
        raise ValidationError(_("Give the round a name."))
    check_capacity(pool_size)
    zone = timezone.get_current_timezone()
    starts_at = starts_at or datetime.combine(day, time(*DEFAULT_WINDOW[0]), zone)
    ends_at = ends_at or datetime.combine(day, time(*DEFAULT_WINDOW[1]), zone)
    if ends_at <= starts_at:
        raise ValidationError(_("The collection window ends before it starts."))
    screening_round = ScreeningRound.objects.create(
        unit=unit,
        county_code=unit.county_code,
        name=name,
        day=day,
        starts_at=starts_at,
        ends_at=ends_at,
        pool_size=pool_size,
        created_by=by,
    )
    target = RoundTarget._meta.db_table
    resident = Resident._meta.db_table
    unit_table = OrgUnit._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {target} (round_id, resident_id, grid_path, sampled, "
            "in_positive_pool, single_result) "
            f"SELECT %s, r.id, g.path, FALSE, FALSE, '' FROM {resident} r "
            f"JOIN {unit_table} g ON g.id = r.grid_id "
            "WHERE g.path LIKE %s AND r.status NOT IN (%s, %s, %s)",
            [screening_round.pk, f"{unit.path}%", *NOT_HERE],
        )
        screening_round.target_size = cursor.rowcount
        if connection.vendor == "postgresql":
            # The planner must know the round's rows are there, or the imports' joins on
            # them run as nested loops over a million rows.
            cursor.execute(f"ANALYZE {target}")
    screening_round.save(update_fields=["target_size"])
    areas_refresh(
        screening_round,
        grid_paths=RoundTarget.objects.filter(round=screening_round)
        .values_list("grid_path", flat=True)
        .distinct(),
    )
    return screening_round


def priors_of(screening_round: ScreeningRound, digest: str) -> list[Prior]:
    return [
        Prior(barcode=barcode, capacity=capacity, result=result)
        for barcode, capacity, result in Sample.objects.filter(
            round=screening_round, digest_key=digest_key(digest), id_number_digest=digest
        )
        .order_by("id")
        .values_list("tube__barcode", "tube__capacity", "tube__result")
    ]


@transaction.atomic
def sample_collect(
    *,
    screening_round: ScreeningRound,
    barcode: str,
    id_number: str,
    by,
    name: str = "",
    capacity: int | None = None,
    point: str = "",
    at: datetime | None = None,
) -> Sample:
    """Bind one person to a tube at a collection point (采样). The tube is opened with the
    round's capacity at its first person and closes when full."""
    if by is not None and not collects_for(by, screening_round):
        raise PermissionDenied(_("You do not collect samples for this round."))
    barcode = _clean_text(barcode, "barcode")
    if not barcode:
        raise ValidationError(_("Scan or type the tube's barcode first."))
    card = parse_id_number(id_number)
    digest = protection.lookup_digest(card.number)
    resident = Resident.objects.filter(id_number_digest=digest).select_related("grid").first()
    name = _clean_text(name, "name")[:60] or (resident.name if resident else "")
    if not name:
        raise ValidationError(_("This person is not in the registry: type their name."))
    tube = _tube_for(screening_round, barcode, capacity, _clean_text(point, "point"))
    if tube.result:
        raise ValidationError(_("Tube %(barcode)s already has its result.") % {"barcode": barcode})
    if tube.samples.filter(id_number_digest=digest).exists():
        raise ValidationError(
            _("%(name)s is already in tube %(barcode)s.") % {"name": name, "barcode": barcode}
        )
    if tube.closed_at or tube.members >= tube.capacity:
        raise ValidationError(
            _("Tube %(barcode)s is full (%(capacity)d people); start a new tube.")
            % {"barcode": barcode, "capacity": tube.capacity}
        )
    problem = binding_problem(
        barcode=barcode, capacity=tube.capacity, priors=priors_of(screening_round, digest)
    )
    if problem:
        raise ValidationError(problem)
    at = at or timezone.now()
    target_path = ""
    if resident is not None:
        target_path = (
            RoundTarget.objects.filter(round=screening_round, resident=resident)
            .values_list("grid_path", flat=True)
            .first()
            or ""
        )
    sample = Sample.objects.create(
        round=screening_round,
        tube=tube,
        county_code=screening_round.county_code,
        resident=resident,
        name=name,
        id_number_digest=digest,
        id_number_masked=mask_id_number(card.number),
        target_grid_path=target_path,
        collected_at=at,
        collected_by=by,
    )
    tube.members += 1
    tube.collected_at = tube.collected_at or at
    if tube.members >= tube.capacity:
        tube.closed_at = at
    before = tube.common_path
    if target_path:
        tube.common_path = common_path([before or target_path, target_path])
    tube.save(update_fields=["members", "collected_at", "closed_at", "common_path"])
    if target_path:
        targets_refresh(screening_round, [resident.pk])
        areas_refresh(screening_round, tube_paths=[before, tube.common_path])
    return sample


def _tube_for(screening_round, barcode: str, capacity: int | None, point: str) -> Tube:
    """The round's tube with this barcode, locked; opened when new."""
    tube = Tube.objects.select_for_update().filter(round=screening_round, barcode=barcode).first()
    if tube is None:
        tube = Tube.objects.create(
            round=screening_round,
            county_code=screening_round.county_code,
            barcode=barcode,
            capacity=check_capacity(capacity or screening_round.pool_size),
            point=point,
        )
    elif capacity and capacity != tube.capacity:
        raise ValidationError(
            _("Tube %(barcode)s holds %(capacity)d people, not %(asked)d.")
            % {"barcode": barcode, "capacity": tube.capacity, "asked": capacity}
        )
    return tube


#: The fields of a tube the chain's steps write.
CHAIN_FIELDS = (
    "closed_at", "sent_at", "courier", "box", "received_at", "result", "tested_at", "lab",
    "reported_at", "result_before_receipt",
)  # fmt: skip


def _on_trail(before: list[Tube]) -> None:
    """Put the tubes a chain step wrote with one UPDATE (no save signal) on the audit
    trail, as a save would: each tube's fields that changed, filed under the round's
    unit. The lab files' results are covered by their import's own audit entry."""
    after = Tube.objects.select_related("round__unit").in_bulk([tube.pk for tube in before])
    for tube in before:
        change_record_fields(tube, after[tube.pk], CHAIN_FIELDS)


def _round_tubes(screening_round, barcodes: Iterable[str]) -> list[Tube]:
    barcodes = sorted({_clean_text(b, "barcode") for b in barcodes if str(b).strip()})
    if not barcodes:
        raise ValidationError(_("Scan at least one tube."))
    tubes = list(
        Tube.objects.select_for_update(of=("self",))
        .select_related("round__unit")
        .filter(round=screening_round, barcode__in=barcodes)
    )
    unknown = sorted(set(barcodes) - {tube.barcode for tube in tubes})
    if unknown:
        raise ValidationError(
            _("No tube of this round has the barcode %(barcodes)s.")
            % {"barcodes": "、".join(unknown)}
        )
    return tubes


@transaction.atomic
def tube_close(*, tube: Tube, by, at: datetime | None = None) -> Tube:
    """Close a tube before it is full (the last people of a point, a rare pool of 3)."""
    if by is not None and not collects_for(by, tube.round):
        raise PermissionDenied(_("You do not collect samples for this round."))
    if tube.members == 0:
        raise ValidationError(_("An empty tube cannot be closed."))
    Tube.objects.filter(pk=tube.pk, closed_at__isnull=True).update(closed_at=at or timezone.now())
    tube.refresh_from_db()
    return tube


@transaction.atomic
def tubes_send(
    *,
    screening_round: ScreeningRound,
    barcodes: Iterable[str],
    courier: str,
    box: str = "",
    by,
    at: datetime | None = None,
) -> int:
    """Hand a transport box of tubes to a courier (送检); open tubes are closed with it."""
    _require_officer(by, screening_round)
    courier = _clean_text(courier, "courier")
    if not courier:
        raise ValidationError(_("Who carries the box? Give the courier's name."))
    tubes = _round_tubes(screening_round, barcodes)
    at = at or timezone.now()
    for tube in tubes:
        if tube.sent_at:
            raise ValidationError(
                _("Tube %(barcode)s was already sent.") % {"barcode": tube.barcode}
            )
    Tube.objects.filter(pk__in=[t.pk for t in tubes], closed_at__isnull=True).update(closed_at=at)
    count = Tube.objects.filter(pk__in=[t.pk for t in tubes]).update(
        sent_at=at, courier=courier, box=_clean_text(box, "box")
    )
    _on_trail(tubes)
    return count


@transaction.atomic
def tubes_receive(
    *, screening_round: ScreeningRound, barcodes: Iterable[str], by, at: datetime | None = None
) -> int:
    """The lab signs for tubes (接收). A tube nobody recorded as sent is received anyway:
    the lab holds it, so the chain records where it is."""
    _require_officer(by, screening_round)
    tubes = _round_tubes(screening_round, barcodes)
    at = at or timezone.now()
    ids = [t.pk for t in tubes if t.received_at is None]
    Tube.objects.filter(pk__in=ids, sent_at__isnull=True).update(sent_at=at)
    Tube.objects.filter(pk__in=ids, closed_at__isnull=True).update(closed_at=at)
    count = Tube.objects.filter(pk__in=ids).update(received_at=at)
    _on_trail([t for t in tubes if t.pk in ids])
    return count


def result_problem(tube: Tube, result: str, tested_at: datetime) -> tuple[str, str] | None:
    """(field, reason) of why a result may not be stored on `tube`; None when it may (or
    the same result is stored already). Fields: "result", "tested", "barcode"."""
    if tube.result and tube.result != result:
        reason = _("Tube %(barcode)s was already reported %(result)s; the stored result stays.")
        return "result", reason % {"barcode": tube.barcode, "result": Result(tube.result).label}
    if tube.collected_at and tested_at < tube.collected_at:
        return "tested", _("The test time is before the tube's first sample.")
    if tube.members == 0:
        return "barcode", _("Tube %(barcode)s holds nobody.") % {"barcode": tube.barcode}
    return None


@transaction.atomic
def tube_result_record(*, tube: Tube, result: str, tested_at: datetime, lab: str, by) -> bool:
    """Store a lab result (检 → 报). Returns False when the same result was stored already.

    A result for a tube nobody recorded as received is accepted and flagged
    (`result_before_receipt`): the result is what protects people, and a positive pool
    must reach its members at once even if the courier's scan was missed; the flag shows
    the gap in the chain on the round's page."""
    _require_officer(by, tube.round)
    tube = (
        Tube.objects.select_for_update(of=("self", "round"))
        .select_related("round__unit")
        .get(pk=tube.pk)
    )
    problem = result_problem(tube, result, tested_at)
    if problem:
        raise ValidationError(problem[1])
    if tube.result == result:
        return False
    before = copy.copy(tube)
    tube.result, tube.tested_at, tube.lab = result, tested_at, _clean_text(lab, "lab")
    results_store(tube.round, [tube], by=by)
    _on_trail([before])
    return True


def results_store(screening_round: ScreeningRound, tubes: list[Tube], *, by) -> None:
    """Write the results set on `tubes` (result, tested_at, lab; received_at as loaded)
    and refresh the flags of the people whose flags a result moves: the members of
    positive pools and of single tubes."""
    if not tubes:
        return
    now = timezone.now()
    for tube in tubes:
        tube.reported_at, tube.reported_by_id = now, by.pk if by is not None else None
        tube.result_before_receipt = tube.received_at is None
        tube.closed_at = tube.closed_at or now
    _tubes_update(tubes)
    areas_refresh(screening_round, tube_paths=[t.common_path for t in tubes])
    moving = [t.pk for t in tubes if t.result == Result.POSITIVE or t.capacity == 1]
    residents = set()
    for start in range(0, len(moving), CHUNK):
        residents.update(
            Sample.objects.filter(
                tube_id__in=moving[start : start + CHUNK], resident__isnull=False
            ).values_list("resident_id", flat=True)
        )
    targets_refresh(screening_round, residents)
    test_results_reported.send(
        sender=Tube, results=personal_results(screening_round, reported_at=now), source=SOURCE
    )


#: How control's records name the results screening passes on.
SOURCE = "screening"


def personal_results(screening_round: ScreeningRound, *, reported_at: datetime):
    """The people's results of the tubes reported at `reported_at` (one `results_store`),
    lazily, for control's batch hook: a single tube's result is its person's; a negative
    pool is negative for each member; a positive pool is nobody's result yet (its members
    get a single-tube retest, whose result is). The day is the day of the sample."""
    return (
        Sample.objects.filter(round=screening_round, tube__reported_at=reported_at)
        .filter(Q(tube__capacity=1) | Q(tube__result=Result.NEGATIVE))
        .annotate(day=TruncDate("collected_at"), result=F("tube__result"))
    )


RESULT_FIELDS = (
    "result", "tested_at", "lab", "reported_at", "reported_by_id", "result_before_receipt",
    "closed_at",
)  # fmt: skip


def _tubes_update(tubes: list) -> None:
    """Write the result fields of many tubes (model instances or plain records with `pk`
    and the fields): on PostgreSQL copied into a temporary table, indexed and analysed,
    and applied with one UPDATE (Django's bulk_update builds a CASE per row and field,
    which grows with the square of a lab file's size; an unindexed, unanalysed temporary
    table let the planner loop over it once per tube right after a sample import, whose
    new tubes the statistics did not know yet)."""
    if connection.vendor != "postgresql" or len(tubes) < 100:
        Tube.objects.bulk_update(
            [Tube(pk=t.pk, **{f: getattr(t, f) for f in RESULT_FIELDS}) for t in tubes],
            [f.removesuffix("_id") for f in RESULT_FIELDS],
        )
        return
    columns = ", ".join(f"{f} {Tube._meta.get_field(f.removesuffix('_id')).db_type(connection)}"
                        for f in RESULT_FIELDS)  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE tube_results (id bigint, {columns}) ON COMMIT DROP")
        names = ", ".join(RESULT_FIELDS)
        with cursor.cursor.copy(f"COPY tube_results (id, {names}) FROM STDIN") as copy:
            for tube in tubes:
                copy.write_row([tube.pk, *(getattr(tube, f) for f in RESULT_FIELDS)])
        cursor.execute("CREATE UNIQUE INDEX ON tube_results (id)")
        cursor.execute("ANALYZE tube_results")
        assignments = ", ".join(f"{f} = r.{f}" for f in RESULT_FIELDS)
        cursor.execute(
            f"UPDATE {Tube._meta.db_table} t SET {assignments} FROM tube_results r "
            "WHERE t.id = r.id"
        )
        cursor.execute("DROP TABLE tube_results")


def targets_refresh(screening_round: ScreeningRound, resident_ids: Iterable[int]) -> None:
    """Recompute the target rows of these people from their samples and tubes."""
    ids = sorted(set(resident_ids))
    samples = Sample.objects.filter(round=screening_round, resident_id=OuterRef("resident_id"))
    single = (
        samples.filter(tube__capacity=1)
        .exclude(tube__result="")
        .order_by("-tube__tested_at")
        .values("tube__result")[:1]
    )
    for start in range(0, len(ids), CHUNK):
        RoundTarget.objects.filter(
            round=screening_round, resident_id__in=ids[start : start + CHUNK]
        ).update(
            sampled=Exists(samples),
            in_positive_pool=Exists(
                samples.filter(tube__capacity__gt=1, tube__result=Result.POSITIVE)
            ),
            single_result=Coalesce(Subquery(single), Value("")),
        )
    paths = set()
    for start in range(0, len(ids), CHUNK):
        paths.update(
            RoundTarget.objects.filter(
                round=screening_round, resident_id__in=ids[start : start + CHUNK]
            ).values_list("grid_path", flat=True)
        )
    areas_refresh(screening_round, grid_paths=paths)


def common_path(paths: Iterable[str]) -> str:
    """The deepest unit path that every one of `paths` lies under ("" for none)."""
    parts = [p.rstrip(PATH_SEPARATOR).split(PATH_SEPARATOR) for p in paths if p]
    if not parts:
        return ""
    shared = []
    for segments in zip(*parts, strict=False):
        if any(segment != segments[0] for segment in segments):
            break
        shared.append(segments[0])
    return PATH_SEPARATOR.join(shared) + PATH_SEPARATOR if shared else ""


def areas_refresh(
    screening_round: ScreeningRound, *, grid_paths: Iterable[str] = (), tube_paths=()
) -> None:
    """Rewrite the round's per-place figures (RoundArea) of these grids (people) and these
    common paths (tubes) from the raw rows."""
    people = sorted({p for p in grid_paths if p})
    tubes = sorted({p for p in tube_paths if p})
    for start in range(0, len(people), CHUNK):
        chunk = people[start : start + CHUNK]
        rows = (
            RoundTarget.objects.filter(round=screening_round, grid_path__in=chunk)
            .values_list("grid_path")
            .annotate(
                target=Count("id"),
                sampled=Count("id", filter=Q(sampled=True)),
                retest_pending=Count("id", filter=Q(in_positive_pool=True, single_result="")),
                retest_positive=Count("id", filter=Q(single_result=Result.POSITIVE)),
            )
            .order_by()
        )
        _areas_replace(screening_round, AreaPart.PEOPLE, chunk, rows, PEOPLE_FIGURES)
    for start in range(0, len(tubes), CHUNK):
        chunk = tubes[start : start + CHUNK]
        rows = (
            Tube.objects.filter(round=screening_round, common_path__in=chunk)
            .values_list("common_path")
            .annotate(
                tubes=Count("id"),
                tubes_reported=Count("id", filter=~Q(result="")),
                positive_tubes=Count("id", filter=Q(result=Result.POSITIVE)),
            )
            .order_by()
        )
        _areas_replace(screening_round, AreaPart.TUBES, chunk, rows, TUBE_FIGURES)


PEOPLE_FIGURES = ("target", "sampled", "retest_pending", "retest_positive")
TUBE_FIGURES = ("tubes", "tubes_reported", "positive_tubes")


def _areas_replace(screening_round, part: str, paths: list[str], rows, figures) -> None:
    RoundArea.objects.filter(round=screening_round, part=part, path__in=paths).delete()
    RoundArea.objects.bulk_create(
        [
            RoundArea(
                round=screening_round,
                part=part,
                path=row[0],
                **dict(zip(figures, row[1:], strict=True)),
            )
            for row in rows
        ],
        batch_size=2000,
    )


@transaction.atomic
def missed_record(
    *, screening_round: ScreeningRound, resident: Resident, reason: str, note: str = "", by
) -> MissedSample:
    """A grid worker's note on why someone of the 未检 list was not sampled."""
    if not collects_for(by, screening_round):
        raise PermissionDenied(_("You do not collect samples for this round."))
    if reason not in MissedReason.values:
        raise ValidationError(_("Choose a reason."))
    if not RoundTarget.objects.filter(round=screening_round, resident=resident).exists():
        raise ValidationError(_("This person is not on the round's target list."))
    return MissedSample.objects.create(
        round=screening_round,
        resident=resident,
        county_code=screening_round.county_code,
        reason=reason,
        note=_clean_text(note, "note"),
        recorded_by=by,
    )


# Periodic testing of key groups (重点人群定期检测) ------------------------------------------


@transaction.atomic
def group_create(*, unit: OrgUnit, name: str, kind: str, every_days: int, by=None) -> TestingGroup:
    """A key group tested every `every_days` days, kept by `unit` (an industry grid, or a
    town or county for a key-place category). Screening officers and dispatchers open
    them; `by` None is the command line."""
    if by is not None and not runs_rounds(by, unit):
        raise PermissionDenied(_("Only screening officers and dispatchers open key groups."))
    if unit.kind not in GROUP_UNIT_KINDS:
        raise ValidationError(_("A key group is kept by an industry grid, a town or a county."))
    name = _clean_text(name, "name")
    if not name:
        raise ValidationError(_("Give the group a name."))
    if kind not in GroupKind.values:
        raise ValidationError(_("Choose the group's industry."))
    low, high = EVERY_DAYS
    if not (isinstance(every_days, int) and low <= every_days <= high):
        raise ValidationError(
            _("A group is tested every %(low)d to %(high)d days.") % {"low": low, "high": high}
        )
    if TestingGroup.objects.filter(unit=unit, name=name).exists():
        raise ValidationError(_("%(unit)s already has a group %(name)s.") % {
            "unit": unit.name, "name": name})  # fmt: skip
    return TestingGroup.objects.create(
        unit=unit,
        county_code=unit.county_code,
        name=name,
        kind=kind,
        every_days=every_days,
        created_by=by,
    )


def group_resident(group: TestingGroup, digest: str) -> Resident | None:
    """The resident of the group's county with this ID-number digest: members are people
    of the county's registry (they live in its grids and work in the group)."""
    return (
        Resident.objects.filter(id_number_digest=digest, county_code=group.county_code)
        .select_related("grid")
        .first()
    )


@transaction.atomic
def group_member_add(
    *, group: TestingGroup, id_number: str, employer: str = "", joined_on: date | None = None, by
) -> GroupMember:
    """Put a resident of the county in the group (again, if they had left)."""
    if by is not None and not keeps_group(by, group):
        raise PermissionDenied(_("You do not keep this group's members."))
    card = parse_id_number(id_number)
    resident = group_resident(group, protection.lookup_digest(card.number))
    if resident is None:
        raise ValidationError(
            _("ID number %(number)s is not in the registry of this county.")
            % {"number": mask_id_number(card.number)}
        )
    employer = _clean_text(employer, "employer")
    joined_on = joined_on or timezone.localdate()
    member = GroupMember.objects.select_for_update().filter(group=group, resident=resident).first()
    if member is not None and member.left_on is None:
        raise ValidationError(
            _("%(name)s is already in the group.") % {"name": resident.name}, code="member"
        )
    if member is None:
        member = GroupMember(group=group, resident=resident, county_code=group.county_code)
    member.employer, member.joined_on, member.left_on, member.added_by = (
        employer, joined_on, None, by)  # fmt: skip
    member.save()
    return member


@transaction.atomic
def group_member_remove(*, member: GroupMember, by, on: date | None = None) -> GroupMember:
    """Take someone off the group (they changed jobs); their row stays with the day."""
    if by is not None and not keeps_group(by, member.group):
        raise PermissionDenied(_("You do not keep this group's members."))
    member = GroupMember.objects.select_for_update().select_related("group__unit").get(
        pk=member.pk)  # fmt: skip
    if member.left_on is not None:
        raise ValidationError(_("This person has left the group already."))
    member.left_on = max(on or timezone.localdate(), member.joined_on)
    member.save(update_fields=["left_on"])
    return member
