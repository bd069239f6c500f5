"""Writes of key-population control: one function per verb, each one transaction, each
checking that the acting user's role covers the person's grid.

Domain errors are `ValidationError`s with a Chinese message (through gettext) that pages,
the API and commands show as they are.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epidispatch.accounts.models import Role
from epidispatch.audit.models import AuditAction
from epidispatch.audit.services import audit_record
from epidispatch.core import protection
from epidispatch.core.ids import mask_id_number, mask_phone, parse_id_number
from epidispatch.core.scoping import holds_role_over
from epidispatch.fieldwork.selectors import checkpoint_records_visible_to
from epidispatch.orgunits.models import OrgUnit, UnitKind
from epidispatch.registry.models import Resident
from epidispatch.registry.selectors import household_mates
from epidispatch.registry.services import ADDRESS_MAX_LENGTH, household_address_clean

from .models import (
    CONTACT_CATEGORIES,
    AreaLevel,
    CandidateReason,
    CandidateState,
    CaseChange,
    CaseTest,
    Category,
    ChangeKind,
    ContactCandidate,
    ControlArea,
    ControlCase,
    ControlPolicy,
    HealthCheck,
    KeyPerson,
    PlanItem,
    PositiveCase,
    ResponseCheck,
    ResponseStep,
    Source,
    TestResult,
    TrajectoryPoint,
)
from .policy import (
    NotManaged,
    build_plan,
    extend_plan,
    measure_on,
    policy_in_force,
    required_test_days,
)
from .signals import Proposal, contact_candidates_wanted

#: Who puts people under measures, records positives and confirms contacts.
MANAGE_ROLES = (Role.CONTROL_OFFICER, Role.DISPATCHER)
#: Who does the daily work with a person under measures: their grid's workers, the town,
#: the control group.
DAILY_ROLES = (Role.GRID_WORKER, Role.TOWN_OFFICIAL, Role.CONTROL_OFFICER, Role.DISPATCHER)
#: A body temperature outside this range is a typing error, not a reading.
TEMPERATURE_RANGE = (Decimal("34.0"), Decimal("43.0"))
#: How far back a reference date may lie: older exposures need no measure any more.
REFERENCE_MAX_AGE = timedelta(days=60)
#: How long around a trajectory point a checkpoint record makes someone a candidate.
CHECKPOINT_WINDOW = timedelta(hours=1)


def _changed(case: ControlCase, kind: str, day: date, detail: str = "") -> CaseChange:
    """Append the change to the case's feed (see `CaseChange`), with the phases and end
    as they now stand."""
    return CaseChange.objects.create(
        case=case,
        kind=kind,
        day=day,
        plan=case.plan,
        ends_on=case.ends_on,
        detail=detail[:200],
        grid_id=case.grid_id,
        county_code=case.county_code,
    )


def _require(user, roles, grid: OrgUnit, message: str) -> None:
    if user is not None and not holds_role_over(user, roles, grid.path):
        raise PermissionDenied(message)


def key_person_resolve(
    *, name: str, id_number: str, phone: str = "", grid: OrgUnit | None = None, address: str = ""
) -> KeyPerson:
    """The key person with this ID number, made when new: matched to the resident (and
    their grid) when registered here, else placed in `grid` as a non-resident.

    A non-resident without a grid is refused: the board counts people where they stay.
    """
    card = parse_id_number(id_number)
    digest = protection.lookup_digest(card.number)
    resident = Resident.objects.select_related("grid").filter(id_number_digest=digest).first()
    home = resident.grid if resident is not None else grid
    if home is None:
        raise ValidationError(
            _("%(name)s is not a registered resident: give the grid where the person stays.")
            % {"name": name}
        )
    if home.kind != UnitKind.GRID:
        raise ValidationError(_("%(unit)s is not a grid.") % {"unit": home.name})
    person = KeyPerson.objects.filter(id_number_digest=digest).first()
    if person is None:
        phone = phone.strip()
        person = KeyPerson.objects.create(
            name=(resident.name if resident else name.strip())[:60],
            id_number_digest=digest,
            id_number_encrypted=protection.encrypt(card.number),
            id_number_masked=mask_id_number(card.number),
            phone_digest=protection.lookup_digest(phone) if phone else "",
            phone_encrypted=protection.encrypt(phone) if phone else "",
            phone_masked=mask_phone(phone) if phone else "",
            resident=resident,
            grid=home,
            address=address.strip()[:200],
            county_code=home.county_code,
        )
    return person


@dataclass(frozen=True)
class Registration:
    case: ControlCase
    created: bool


def case_register(
    *,
    person: KeyPerson,
    category: str,
    reference_date: date,
    registered_on: date,
    source: str,
    by=None,
    positive: PositiveCase | None = None,
) -> Registration:
    """Put a key person under the measures the version in force on `registered_on` gives
    their category, with the phases as dates from `reference_date`.

    The same person, category and reference date is the same case: registering it again
    returns the stored one unchanged. A category the version does not manage is refused
    with the reason. `by` None is the command line (the server's administrator).
    """
    if category not in Category.values:
        raise ValidationError(_("Unknown category: %(value)s.") % {"value": category})
    _require(by, MANAGE_ROLES, person.grid, _("Only the control group registers key persons."))
    if reference_date > registered_on:
        raise ValidationError(
            _("The last exposure or arrival (%(day)s) is after the registration day.")
            % {"day": reference_date},
            code="reference_date",
        )
    if reference_date < registered_on - REFERENCE_MAX_AGE:
        raise ValidationError(
            _("The last exposure or arrival (%(day)s) is more than 60 days ago.")
            % {"day": reference_date},
            code="reference_date",
        )
    with transaction.atomic():
        existing = ControlCase.objects.filter(
            person=person, category=category, reference_date=reference_date
        ).first()
        if existing is not None:
            return Registration(case=existing, created=False)
        try:
            policy = policy_in_force(registered_on)
        except NotManaged as error:
            raise ValidationError(str(error)) from None
        phases = list(policy.phases.filter(category=category))
        if not phases:
            raise ValidationError(
                _("%(policy)s does not manage %(category)s: nobody is registered in it.")
                % {"policy": policy.name, "category": Category(category).label},
                code="not_managed",
            )
        plan = build_plan(phases, reference_date)
        case = ControlCase.objects.create(
            person=person,
            category=category,
            source=source,
            reference_date=reference_date,
            registered_on=registered_on,
            policy=policy,
            plan=plan,
            ends_on=date.fromisoformat(plan[-1]["last"]),
            grid=person.grid,
            county_code=person.county_code,
            positive=positive,
        )
        _changed(case, ChangeKind.REGISTERED, registered_on)
        if by is not None:
            audit_record(
                user=by,
                action=AuditAction.REGISTER_CONTROL_CASE,
                subject=str(case)[:120],
                unit_path=person.grid.path,
            )
    return Registration(case=case, created=True)


def _under_measure(case: ControlCase, day: date) -> str:
    if case.released_on is not None:
        raise ValidationError(_("%(name)s has been released.") % {"name": case.person.name})
    measure = measure_on(case.plan, day, case.transferred_on)
    if measure is None:
        raise ValidationError(
            _("%(name)s is not under measures on %(day)s.") % {"name": case.person.name, "day": day}
        )
    return measure


@transaction.atomic
def health_check_record(
    *, case: ControlCase, day: date, temperature: Decimal, symptoms: str = "", by
) -> HealthCheck:
    """The day's health check-in (体温、症状) of a person under measures; one per day."""
    _require(by, DAILY_ROLES, case.grid, _("Only the workers of this grid record check-ins."))
    _under_measure(case, day)
    low, high = TEMPERATURE_RANGE
    if not low <= temperature <= high:
        raise ValidationError(
            _("A body temperature lies between %(low)s and %(high)s °C.")
            % {"low": low, "high": high}
        )
    if HealthCheck.objects.filter(case=case, day=day).exists():
        raise ValidationError(
            _("The check-in of %(name)s for %(day)s is recorded already.")
            % {"name": case.person.name, "day": day}
        )
    return HealthCheck.objects.create(
        case=case, day=day, temperature=temperature,
        symptoms=symptoms.replace("\x00", "").strip()[:200],
        recorded_by=by,
    )  # fmt: skip


@transaction.atomic
def case_test_record(
    *, case: ControlCase, day: date, result: str, by=None, source: str = ""
) -> CaseTest:
    """A nucleic-acid result of a person under measures (entered by hand, or passed on by
    the screening module with `by` None and `source` naming it). A result already stored
    for the day is kept: a different one is refused."""
    if result not in TestResult.values:
        raise ValidationError(_("Unknown test result: %(value)s.") % {"value": result})
    _require(by, DAILY_ROLES, case.grid, _("Only the workers of this grid record tests."))
    _under_measure(case, day)
    stored = CaseTest.objects.filter(case=case, day=day).first()
    if stored is not None:
        if stored.result != result:
            raise ValidationError(
                _("A %(result)s result is already stored for %(day)s.")
                % {"result": stored.get_result_display(), "day": day}
            )
        return stored
    return CaseTest.objects.create(
        case=case, day=day, result=result, source=source[:40], recorded_by=by
    )


def case_tests_from_result(
    sender, *, id_number_digest: str, day: date, result: str, source: str = "", **kwargs
) -> list[CaseTest]:
    """Receiver of `test_result_reported`: a result another module learnt (a screening
    tube's) lands on every case of the person under measures that day; a person not under
    measures is nobody's business here."""
    stored = []
    cases = ControlCase.objects.filter(
        person__id_number_digest=id_number_digest,
        released_on__isnull=True,
        ends_on__gte=day,
        registered_on__lte=day,
    ).select_related("person", "grid")
    for case in cases:
        if measure_on(case.plan, day, case.transferred_on) is not None:
            stored.append(case_test_record(case=case, day=day, result=result, source=source))
    return stored


def case_tests_from_results(sender, *, results, source: str = "", **kwargs) -> list[CaseTest]:
    """Receiver of `test_results_reported`: a batch of results (a lab file's) lands on the
    cases of the people under measures on each result's day, in a few queries whatever the
    batch's size: the batch, a lazy queryset, is narrowed in SQL to the people with an
    open case and only their rows are read. As in `case_test_record`, a day that already
    holds a result keeps it; a different one is skipped rather than stopping the lab's
    import (within a batch a positive is taken before a negative of the same day)."""
    open_cases = ControlCase.objects.filter(released_on__isnull=True)
    rows = list(
        results.filter(
            id_number_digest__in=open_cases.values("person__id_number_digest")
        ).values_list("id_number_digest", "day", "result")
    )
    if not rows:
        return []
    cases: dict[str, list[ControlCase]] = {}
    found = open_cases.filter(person__id_number_digest__in={row[0] for row in rows})
    for case in found.select_related("person"):
        cases.setdefault(case.person.id_number_digest, []).append(case)
    taken = set(
        CaseTest.objects.filter(case__in=[c for found in cases.values() for c in found])
        .values_list("case_id", "day")
    )  # fmt: skip
    new = []
    ranked = sorted(rows, key=lambda row: (row[0], row[1], row[2] != TestResult.POSITIVE))
    for digest, day, result in ranked:
        for case in cases.get(digest, ()):
            if (case.pk, day) in taken or not case.registered_on <= day <= case.ends_on:
                continue
            if measure_on(case.plan, day, case.transferred_on) is None:
                continue
            taken.add((case.pk, day))
            new.append(CaseTest(case=case, day=day, result=result, source=source[:40]))
    return CaseTest.objects.bulk_create(new)


def release_blockers(case: ControlCase, on: date) -> list[str]:
    """What stands between a case and its release on `on`, in words (empty: none)."""
    blockers = []
    if on < case.ends_on:
        blockers.append(_("the last phase ends on %(day)s") % {"day": case.ends_on.isoformat()})
    results = dict(CaseTest.objects.filter(case=case).values_list("day", "result"))
    missing = [day for day in required_test_days(case.plan) if day not in results]
    positive = [day for day, result in results.items() if result == TestResult.POSITIVE]
    if missing:
        blockers.append(
            _("no test result for %(days)s")
            % {"days": "、".join(day.strftime("%m-%d") for day in missing)}
        )
    if positive:
        blockers.append(
            _("a positive result on %(days)s")
            % {"days": "、".join(day.strftime("%m-%d") for day in sorted(positive))}
        )
    return blockers


@transaction.atomic
def case_release(*, case: ControlCase, on: date, by) -> ControlCase:
    """Release (解除管控) once the last phase has ended — its last day counts — and every
    required test is negative; refused otherwise, saying what is missing."""
    _require(by, DAILY_ROLES, case.grid, _("Only the workers of this grid release people."))
    case = ControlCase.objects.select_for_update().select_related("person", "grid").get(pk=case.pk)
    if case.released_on is not None:
        raise ValidationError(_("%(name)s has been released.") % {"name": case.person.name})
    blockers = release_blockers(case, on)
    if blockers:
        raise ValidationError(
            _("%(name)s cannot be released yet: %(what)s.")
            % {"name": case.person.name, "what": "；".join(blockers)}
        )
    case.released_on, case.released_by = on, by
    case.save(update_fields=["released_on", "released_by"])
    _changed(case, ChangeKind.RELEASED, on)
    audit_record(
        user=by,
        action=AuditAction.RELEASE_CONTROL_CASE,
        subject=str(case)[:120],
        unit_path=case.grid.path,
    )
    return case


@transaction.atomic
def case_transfer(*, case: ControlCase, on: date, place: str, by) -> ControlCase:
    """Transfer to centralized isolation (转运集中隔离) at `place`, from `on` until the end
    of the current phase."""
    _require(by, DAILY_ROLES, case.grid, _("Only the workers of this grid transfer people."))
    place = place.strip()
    if not place:
        raise ValidationError(_("Give the isolation place."))
    if _under_measure(case, on) == "centralized_isolation":
        raise ValidationError(
            _("%(name)s is in centralized isolation already.") % {"name": case.person.name}
        )
    case.transferred_on, case.isolation_place = on, place[:100]
    case.save(update_fields=["transferred_on", "isolation_place"])
    _changed(case, ChangeKind.TRANSFERRED, on, case.isolation_place)
    return case


@transaction.atomic
def case_extend(*, case: ControlCase, days: int, decision: str, decided_on: date, by):
    """Keep a person longer than their version says: possible only as a recorded, dated
    local decision (整治层层加码), so the board can tell it from overreach."""
    _require(by, MANAGE_ROLES, case.grid, _("Only the control group decides stricter measures."))
    decision = decision.strip()
    if not decision or not 1 <= days <= 14:
        raise ValidationError(_("A stricter measure needs the decision and 1 to 14 days."))
    case.extra_days += days
    case.local_decision = f"{decided_on:%Y-%m-%d} {decision}"[:200]
    case.local_decision_on = decided_on
    case.plan = extend_plan(case.plan, days)
    case.ends_on = date.fromisoformat(case.plan[-1]["last"])
    case.save(
        update_fields=["extra_days", "local_decision", "local_decision_on", "plan", "ends_on"]
    )
    _changed(case, ChangeKind.EXTENDED, decided_on, decision)
    return case


def key_person_unmask(*, user, person: KeyPerson) -> tuple[str, str]:
    """The ID number and phone in clear, written to the audit log first (PIPL)."""
    _require(user, DAILY_ROLES, person.grid, _("You may not see this person's personal data."))
    audit_record(
        user=user,
        action=AuditAction.UNMASK_KEY_PERSON,
        subject=str(person)[:120],
        unit_path=person.grid.path,
    )
    return (
        protection.decrypt(person.id_number_encrypted),
        protection.decrypt(person.phone_encrypted) if person.phone_encrypted else "",
    )


# First response (第一时间第一落点)


@dataclass(frozen=True)
class Stop:
    place: str
    started_at: datetime
    ended_at: datetime


@transaction.atomic
def positive_record(
    *, person: KeyPerson, found_on: date, trajectory: Iterable[Stop], by
) -> PositiveCase:
    """Record a positive person with their trajectory, tick "report" on the first-hour
    checklist and propose the contacts the platform's data gives."""
    _require(by, MANAGE_ROLES, person.grid, _("Only the control group records positives."))
    positive = PositiveCase.objects.create(
        person=person,
        found_on=found_on,
        grid=person.grid,
        county_code=person.county_code,
        reported_by=by,
    )
    for stop in trajectory:
        if stop.ended_at < stop.started_at:
            raise ValidationError(
                _("At %(place)s the end is before the start.") % {"place": stop.place}
            )
        TrajectoryPoint.objects.create(
            positive=positive, place=stop.place.strip()[:100],
            started_at=stop.started_at, ended_at=stop.ended_at,
        )  # fmt: skip
    ResponseCheck.objects.create(
        positive=positive, step=ResponseStep.REPORT, done_at=timezone.now(), done_by=by
    )
    candidates_propose(positive=positive, by=by)
    return positive


def _proposals(positive: PositiveCase, by) -> list[Proposal]:
    """Everyone the platform's data puts near the positive person: the other members of
    their household (the registry's 同住人员), checkpoint records at a trajectory place
    within the window (those with an ID number), other key persons at the same address,
    and what other modules answer on `contact_candidates_wanted`."""
    found: list[Proposal] = []
    if positive.person.resident_id is not None:
        for mate in household_mates(by, positive.person.resident).select_related(
            "household__household"
        ):
            found.append(
                Proposal(
                    reason=CandidateReason.HOUSEHOLD,
                    id_number_digest=mate.id_number_digest,
                    id_number_encrypted=mate.id_number_encrypted,
                    id_number_masked=mate.id_number_masked,
                    name=mate.name,
                    exposed_on=positive.found_on,
                    detail=mate.household.household.address,
                )
            )
    records = checkpoint_records_visible_to(by).exclude(id_number_digest="")
    for stop in positive.trajectory.all():
        for record in records.filter(
            place__iexact=stop.place,
            seen_at__gte=stop.started_at - CHECKPOINT_WINDOW,
            seen_at__lte=stop.ended_at + CHECKPOINT_WINDOW,
        ):
            found.append(
                Proposal(
                    reason=CandidateReason.CHECKPOINT,
                    id_number_digest=record.id_number_digest,
                    id_number_encrypted=record.id_number_encrypted,
                    id_number_masked=record.id_number_masked,
                    name=record.name or (record.resident.name if record.resident else ""),
                    exposed_on=timezone.localdate(record.seen_at),
                    detail=f"{record.place} {timezone.localtime(record.seen_at):%m-%d %H:%M}",
                )
            )
    address = positive.person.address
    if address:
        for other in KeyPerson.objects.filter(address=address).exclude(id_number_digest=""):
            found.append(
                Proposal(
                    reason=CandidateReason.ADDRESS,
                    id_number_digest=other.id_number_digest,
                    id_number_encrypted=other.id_number_encrypted,
                    id_number_masked=other.id_number_masked,
                    name=other.name,
                    exposed_on=positive.found_on,
                    detail=address,
                )
            )
    for _receiver, answer in contact_candidates_wanted.send(
        sender=PositiveCase,
        id_number_digest=positive.person.id_number_digest,
        found_on=positive.found_on,
    ):
        found.extend(answer or ())
    return found


@transaction.atomic
def candidates_propose(*, positive: PositiveCase, by) -> list[ContactCandidate]:
    """Store the proposals as candidates, once per person (the first reason found wins),
    never the positive person themself. Run again, it adds only new people."""
    _require(by, MANAGE_ROLES, positive.grid, _("Only the control group traces contacts."))
    known = set(positive.candidates.values_list("id_number_digest", flat=True))
    known.add(positive.person.id_number_digest)
    proposals = _proposals(positive, by)
    digests = {proposal.id_number_digest for proposal in proposals}
    residents = {
        resident.id_number_digest: resident
        for resident in Resident.objects.select_related("grid").filter(id_number_digest__in=digests)
    }
    created = []
    for proposal in proposals:
        if proposal.id_number_digest in known:
            continue
        known.add(proposal.id_number_digest)
        resident = residents.get(proposal.id_number_digest)
        created.append(
            ContactCandidate.objects.create(
                positive=positive,
                reason=proposal.reason,
                detail=proposal.detail[:200],
                exposed_on=proposal.exposed_on,
                name=(resident.name if resident else proposal.name)[:60],
                id_number_digest=proposal.id_number_digest,
                id_number_encrypted=proposal.id_number_encrypted,
                id_number_masked=proposal.id_number_masked,
                resident=resident,
                grid=resident.grid if resident else positive.grid,
            )
        )
    return created


@transaction.atomic
def contacts_confirm(
    *, positive: PositiveCase, choices: dict[int, str], on: date, by
) -> list[ControlCase]:
    """Confirm candidates as 密接 or 次密接 in one step: each becomes a key person with a
    case under the version in force on `on`, counted from their last exposure. All or
    nothing: one refusal (a category the version does not manage) stores none."""
    _require(by, MANAGE_ROLES, positive.grid, _("Only the control group confirms contacts."))
    candidates = {
        candidate.pk: candidate
        for candidate in positive.candidates.select_related("grid", "resident").filter(
            pk__in=choices, state=CandidateState.PROPOSED
        )
    }
    if not candidates:
        raise ValidationError(_("Choose at least one proposed candidate."))
    cases = []
    for pk, candidate in candidates.items():
        category = choices[pk]
        if category not in CONTACT_CATEGORIES:
            raise ValidationError(_("A contact is a close or a secondary contact."))
        person = KeyPerson.objects.filter(id_number_digest=candidate.id_number_digest).first()
        if person is None:
            person = KeyPerson.objects.create(
                name=candidate.name,
                id_number_digest=candidate.id_number_digest,
                id_number_encrypted=candidate.id_number_encrypted,
                id_number_masked=candidate.id_number_masked,
                resident=candidate.resident,
                grid=candidate.grid,
                county_code=candidate.grid.county_code,
            )
        case = case_register(
            person=person,
            category=category,
            reference_date=min(candidate.exposed_on, on),
            registered_on=on,
            source=Source.TRACING,
            by=by,
            positive=positive,
        ).case
        candidate.state, candidate.case = CandidateState.CONFIRMED, case
        candidate.save(update_fields=["state", "case"])
        cases.append(case)
    return cases


@transaction.atomic
def response_step_done(*, positive: PositiveCase, step: str, by) -> ResponseCheck:
    """Tick a step of the first-hour checklist with the time it was done (once)."""
    _require(by, MANAGE_ROLES, positive.grid, _("Only the control group records the response."))
    if step not in ResponseStep.values:
        raise ValidationError(_("Unknown step: %(value)s.") % {"value": step})
    check, _created = ResponseCheck.objects.get_or_create(
        positive=positive, step=step, defaults={"done_at": timezone.now(), "done_by": by}
    )
    return check


@transaction.atomic
def plan_item_check(*, unit: OrgUnit, item: str, ready: bool, note: str, on: date, by):
    """Record the state of one of a unit's 五个到位 on the day it was checked."""
    _require(by, (*MANAGE_ROLES, Role.TOWN_OFFICIAL), unit, _("You may not edit this plan."))
    row, _created = PlanItem.objects.update_or_create(
        unit=unit,
        item=item,
        defaults={"ready": ready, "note": note.strip()[:200], "checked_on": on, "checked_by": by},
    )
    return row


# Control areas (管控区): drawn, changed and lifted by the control group, on the trail.

#: The kinds of unit an area is drawn on: places where people live, not sites or
#: departments.
AREA_UNIT_KINDS = (UnitKind.CITY, UnitKind.COUNTY, UnitKind.TOWN, UnitKind.VILLAGE, UnitKind.GRID)
AREA_MAX_ADDRESSES = 200


def area_levels(policy: ControlPolicy) -> list[str]:
    """The levels a version knows, from its downgrade rules (第九版 高/中/低, 二十条 高/低);
    a version without rules knows them all."""
    rules = list(policy.area_rules.all())
    used = {rule.level for rule in rules} | {rule.becomes for rule in rules}
    return [level for level in AreaLevel.values if not rules or level in used]


def _area_name(name: str) -> str:
    name = " ".join(name.replace("\x00", "").split())
    if not name:
        raise ValidationError(_("Give the area a name."))
    if len(name) > 100:
        raise ValidationError(_("A name has at most 100 characters."))
    return name


def _area_addresses(text: str) -> str:
    """One address a line, as households write them; blank and repeated lines dropped."""
    lines = []
    for line in text.replace("\x00", "").splitlines():
        line = household_address_clean(line)
        if line and line not in lines:
            if len(line) > ADDRESS_MAX_LENGTH:
                raise ValidationError(_("An address has at most 200 characters."))
            lines.append(line)
    if len(lines) > AREA_MAX_ADDRESSES:
        raise ValidationError(_("An area lists at most 200 addresses."))
    return "\n".join(lines)


def _area_level(policy: ControlPolicy, level: str) -> str:
    if level not in area_levels(policy):
        raise ValidationError(
            _("%(policy)s has no %(level)s.")
            % {
                "policy": policy.name,
                "level": AreaLevel(level).label if level in AreaLevel.values else level,
            },
            code="level",
        )
    return level


@transaction.atomic
def area_create(
    *,
    unit: OrgUnit,
    name: str,
    level: str,
    started_on: date,
    last_case_on: date | None = None,
    addresses: str = "",
    by,
) -> ControlArea:
    """Draw a control area (划定管控区) on a unit, or on a list of addresses in it, at a
    level of the version in force on `started_on`; it is lowered by that version's rules
    as days pass without a new case after `last_case_on` (default: the start)."""
    _require(by, MANAGE_ROLES, unit, _("Only the control group draws control areas."))
    if unit.kind not in AREA_UNIT_KINDS:
        raise ValidationError(
            _("A control area is drawn on a place where people live, not on %(unit)s.")
            % {"unit": unit.name}
        )
    try:
        policy = policy_in_force(started_on)
    except NotManaged as error:
        raise ValidationError(str(error)) from None
    last_case_on = last_case_on or started_on
    if last_case_on > started_on + REFERENCE_MAX_AGE or last_case_on < started_on - (
        REFERENCE_MAX_AGE
    ):
        raise ValidationError(_("The last new case lies more than 60 days from the start."))
    return ControlArea.objects.create(
        name=_area_name(name),
        unit=unit,
        addresses=_area_addresses(addresses),
        level=_area_level(policy, level),
        policy=policy,
        started_on=started_on,
        last_case_on=last_case_on,
        county_code=unit.county_code,
    )


@transaction.atomic
def area_update(
    *, area: ControlArea, name: str, level: str, last_case_on: date, addresses: str, by
) -> ControlArea:
    """Change an area that is not lifted: its name, its addresses, and after a new case
    its level and the day of that case (the downgrade counts again from it)."""
    _require(by, MANAGE_ROLES, area.unit, _("Only the control group changes control areas."))
    area = ControlArea.objects.select_for_update().select_related("unit", "policy").get(pk=area.pk)
    if area.ended_on is not None:
        raise ValidationError(_("%(name)s has been lifted.") % {"name": area.name})
    if last_case_on < area.last_case_on:
        raise ValidationError(
            _("The last new case cannot move back before %(day)s.")
            % {"day": area.last_case_on.isoformat()}
        )
    if last_case_on > timezone.localdate():
        raise ValidationError(_("The last new case cannot lie in the future."))
    area.name = _area_name(name)
    area.addresses = _area_addresses(addresses)
    area.level = _area_level(area.policy, level)
    area.last_case_on = last_case_on
    area.save(update_fields=["name", "addresses", "level", "last_case_on"])
    return area


@transaction.atomic
def area_lift(*, area: ControlArea, on: date, by) -> ControlArea:
    """Lift an area (解除管控区) from `on`; it stays in the history, read-only."""
    _require(by, MANAGE_ROLES, area.unit, _("Only the control group lifts control areas."))
    area = ControlArea.objects.select_for_update().select_related("unit").get(pk=area.pk)
    if area.ended_on is not None:
        raise ValidationError(_("%(name)s has been lifted.") % {"name": area.name})
    if on < area.started_on:
        raise ValidationError(
            _("An area is lifted on or after its start, %(day)s.")
            % {"day": area.started_on.isoformat()}
        )
    area.ended_on = on
    area.save(update_fields=["ended_on"])
    return area
