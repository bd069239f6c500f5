"""Every read the sites pages show. Reads of people take the acting user first and are
scoped to the user's units; the public reads return counts and hours only."""

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, Subquery, Sum, Value
from django.db.models.functions import Concat, Substr
from django.http import Http404
from django.utils import timezone

from epidispatch.core import protection
from epidispatch.core.ids import parse_id_number
from epidispatch.core.scoping import scope_q
from epidispatch.orgunits.models import OrgUnit, UnitKind
from epidispatch.orgunits.selectors import unit_for_user
from epidispatch.vaccination.selectors import clearance_list, due_list

from .models import (
    Appointment,
    AppointmentState,
    Equipment,
    EquipmentCheck,
    Qualification,
    RosterEntry,
    Session,
    Slot,
    StaffMember,
    StaffRole,
    TrainingAttendance,
    TrainingSession,
)

#: Doses one vaccinator gives in an hour: what turns a roster into a staffed capacity.
DOSES_PER_VACCINATOR_HOUR = 20


def id_number_digest(raw: str) -> str | None:
    """The lookup key of a typed ID number, or None when it is not a valid one."""
    try:
        return protection.lookup_digest(parse_id_number(raw).number)
    except ValidationError:
        return None


def site_for_user(user, code: str) -> OrgUnit:
    site = unit_for_user(user, code)
    if site.kind != UnitKind.SITE:
        raise Http404
    return site


def slot_get(slot_id: int) -> Slot:
    """A slot by its id. Slots are public (the public page shows them), so this is not
    scoped: whom may be booked into it is, by the booking service."""
    slot = None
    if 0 < slot_id < 2**31:
        slot = Slot.objects.select_related("session__site").filter(pk=slot_id).first()
    if slot is None:
        raise Http404
    return slot


def public_site(code: str) -> OrgUnit:
    site = OrgUnit.objects.filter(code=code[:15], kind=UnitKind.SITE).first()
    if site is None:
        raise Http404
    return site


def public_towns() -> list[OrgUnit]:
    return list(OrgUnit.objects.filter(kind=UnitKind.TOWN).order_by("code"))


@dataclass(frozen=True)
class PublicSite:
    code: str
    name: str
    hours: list[str]
    free_today: int
    waiting_now: int


def public_sites_near(town: OrgUnit, today: date | None = None) -> list[PublicSite]:
    """The sites of a town and those the county runs directly, with today's hours, the
    places still free in the hours to come and how many people wait now: counts only."""
    now = timezone.localtime()
    today = today or now.date()
    sites = list(
        OrgUnit.objects.filter(kind=UnitKind.SITE)
        .filter(Q(parent=town) | Q(parent_id=town.parent_id))
        .order_by("code")
    )
    sessions = Session.objects.filter(site__in=sites, day=today).order_by("opens_at")
    hours: dict[int, list[str]] = {}
    for session in sessions:
        hours.setdefault(session.site_id, []).append(
            f"{session.opens_at:%H:%M}–{session.closes_at:%H:%M}"
        )
    current_hour = now.time().replace(minute=0, second=0, microsecond=0)
    free = dict(
        Slot.objects.filter(
            session__site__in=sites,
            session__day=today,
            starts_at__gte=current_hour if today == now.date() else datetime.min.time(),
            booked__lt=F("capacity"),
        )
        .values_list("session__site_id")
        .annotate(free=Sum(F("capacity") - F("booked")))
    )
    waiting = dict(
        Appointment.objects.filter(site__in=sites, day=today, state=AppointmentState.CHECKED_IN)
        .values_list("site_id")
        .annotate(n=Count("id"))
    )
    return [
        PublicSite(
            code=site.code,
            name=site.name,
            hours=hours.get(site.pk, []),
            free_today=free.get(site.pk, 0),
            waiting_now=waiting.get(site.pk, 0),
        )
        for site in sites
    ]


def bookable_slots(site: OrgUnit, today: date | None = None) -> list[Slot]:
    """Slots of today (from the current hour) and later days that still have room."""
    now = timezone.localtime()
    today = today or now.date()
    current_hour = now.time().replace(minute=0, second=0, microsecond=0)
    return list(
        Slot.objects.select_related("session")
        .filter(session__site=site, session__day__gte=today, booked__lt=F("capacity"))
        .exclude(session__day=today, starts_at__lt=current_hour)
        .order_by("session__day", "starts_at")[:200]
    )


def site_slots(user, site: OrgUnit, day: date) -> list[Slot]:
    """A day's slots at a site with their counts of used places, for its staff."""
    return list(
        Slot.objects.filter(session__site=site, session__day=day)
        .filter(scope_q(user, "session__site__path"))
        .annotate(
            used=Count("appointments", filter=Q(appointments__state=AppointmentState.VACCINATED))
        )
        .order_by("starts_at")
    )


def site_appointments(user, site: OrgUnit, day: date):
    """A day's appointments at a site (ID numbers masked), scoped to the user."""
    return (
        Appointment.objects.filter(scope_q(user, "site__path"))
        .filter(site=site, day=day)
        .select_related("resident", "slot")
        .order_by("slot__starts_at", "id")
    )


def appointment_for_user(user, site: OrgUnit, appointment_id: int) -> Appointment:
    """One booking at the site, scoped to the user (404 outside their scope)."""
    appointment = (
        Appointment.objects.filter(scope_q(user, "site__path"))
        .filter(site=site, pk=appointment_id)
        .select_related("resident", "site", "slot")
        .first()
    )
    if appointment is None:
        raise Http404
    return appointment


@dataclass(frozen=True)
class SiteLoad:
    """A site's load for a day. `expected`: appointments held that day. `due_second`:
    people of its catchment whose next primary-series dose (mostly the second) may be
    given by that day and is not yet. `clearance_share`: its share of its catchment's
    清零 list. `capacity`: the sessions' places; `staffed`: what the rostered
    vaccinators can give."""

    site: OrgUnit
    expected: int
    capacity: int
    staffed: int
    due_second: int = 0
    clearance_share: int = 0

    @property
    def short(self) -> bool:
        return self.expected > self.staffed

    @property
    def backlog(self) -> int:
        return self.due_second + self.clearance_share

    @property
    def backlog_days(self) -> int | None:
        """Days the site's staffed capacity needs for its backlog (None when unstaffed)."""
        if not self.staffed:
            return None
        return math.ceil(self.backlog / self.staffed)


def site_loads(user, day: date, *, only: OrgUnit | None = None) -> list[SiteLoad]:
    """Each site in the user's scope (or `only` that one): people expected (appointments
    held), due doses and its share of the 清零 list, the sessions' capacity and the
    capacity its rostered vaccinators can give."""
    sites = OrgUnit.objects.filter(scope_q(user), kind=UnitKind.SITE)
    if only is not None:
        sites = sites.filter(pk=only.pk)
    sites = list(sites.order_by("code"))
    expected = dict(
        Appointment.objects.filter(site__in=sites, day=day)
        .exclude(state__in=(AppointmentState.CANCELLED, AppointmentState.NO_SHOW))
        .values_list("site_id")
        .annotate(n=Count("id"))
    )
    capacity = dict(
        Slot.objects.filter(session__site__in=sites, session__day=day)
        .values_list("session__site_id")
        .annotate(n=Sum("capacity"))
    )
    minutes: dict[int, int] = {}
    for site_id, starts, ends in RosterEntry.objects.filter(
        site__in=sites, day=day, role=StaffRole.VACCINATOR
    ).values_list("site_id", "starts_at", "ends_at"):
        span = datetime.combine(day, ends) - datetime.combine(day, starts)
        minutes[site_id] = minutes.get(site_id, 0) + int(span.total_seconds() // 60)
    due, clearance = _catchment_shares(user, sites, day) if sites else ({}, {})
    return [
        SiteLoad(
            site=site,
            expected=expected.get(site.pk, 0),
            capacity=capacity.get(site.pk, 0),
            staffed=minutes.get(site.pk, 0) * DOSES_PER_VACCINATOR_HOUR // 60,
            due_second=due.get(site.pk, 0),
            clearance_share=clearance.get(site.pk, 0),
        )
        for site in sites
    ]


def _town_of(path_field: str):
    """The town code of a resident's grid: a grid code is the village code + 3 digits
    and a village code is the town's first 9 digits + 3, so the town is the first 9 +
    000 (GB/T 2260 and the statistical division codes)."""
    return Concat(Substr(path_field, 1, 9), Value("000"))


def _catchment_shares(
    user, sites: list[OrgUnit], day: date
) -> tuple[dict[int, int], dict[int, int]]:
    """Split each town's due doses and 清零 list between the sites that serve it: the
    town's own sites, or, for a town without one, the sites the county runs directly.
    Counts are of the residents in the user's scope (the vaccination selectors), split
    as evenly as whole people allow (the first sites by code take the remainder)."""
    county_codes = sorted({site.county_code for site in sites})
    counties = OrgUnit.objects.filter(code__in=county_codes, kind=UnitKind.COUNTY)
    all_sites = list(
        OrgUnit.objects.filter(kind=UnitKind.SITE, county_code__in=county_codes)
        .select_related("parent")
        .order_by("code")
    )
    by_town: dict[str, int] = {}
    due_by_town: dict[str, int] = {}
    for county in counties:
        for town, n in (
            clearance_list(user, county)
            .order_by()
            .annotate(town=_town_of("grid__code"))
            .values_list("town")
            .annotate(n=Count("pk"))
        ):
            by_town[town] = by_town.get(town, 0) + n
        for town, n in (
            due_list(user, county)
            .filter(next_due_from__lte=day)
            .order_by()
            .annotate(town=_town_of("resident__grid__code"))
            .values_list("town")
            .annotate(n=Count("pk"))
        ):
            due_by_town[town] = due_by_town.get(town, 0) + n
    serving: dict[str, list[int]] = {}
    county_sites: dict[str, list[int]] = {}
    for site in all_sites:
        if site.parent.kind == UnitKind.TOWN:
            serving.setdefault(site.parent.code, []).append(site.pk)
        else:
            county_sites.setdefault(site.county_code, []).append(site.pk)
    return (
        _split(due_by_town, serving, county_sites),
        _split(by_town, serving, county_sites),
    )


def _split(
    counts: dict[str, int], serving: dict[str, list[int]], county_sites: dict[str, list[int]]
) -> dict[int, int]:
    shares: dict[int, int] = {}
    for town, n in counts.items():
        site_ids = serving.get(town) or county_sites.get(town[:6], [])
        if not site_ids:
            continue
        each, left = divmod(n, len(site_ids))
        for index, site_id in enumerate(site_ids):
            shares[site_id] = shares.get(site_id, 0) + each + (index < left)
    return shares


def staff_visible_to(user):
    """The medical workers whose home unit is in the user's scope."""
    return StaffMember.objects.filter(scope_q(user, "unit__path")).select_related("unit")


def staff_for_roster(user, site: OrgUnit, day: date) -> list[StaffMember]:
    """Who may be put on the site's roster for a day: the user's staff of the site's
    county, each with `valid` (the qualifications valid that day) and `posts` (their
    posts of the day at any site), so the page shows who is free and qualified."""
    valid = Qualification.objects.filter(passed_on__lte=day, expires_on__gte=day).order_by(
        "role", "-expires_on"
    )
    posts = RosterEntry.objects.filter(day=day).select_related("site").order_by("starts_at")
    return list(
        staff_visible_to(user)
        .filter(unit__county_code=site.county_code)
        .prefetch_related(
            Prefetch("qualifications", queryset=valid, to_attr="valid"),
            Prefetch("roster_entries", queryset=posts, to_attr="posts"),
        )
        .order_by("name", "pk")[:500]
    )


def roster_day(user, site: OrgUnit, day: date) -> list[RosterEntry]:
    """A site's roster (排班) of a day, with each post's qualification expiry (None for a
    post that needs none)."""
    expiry = (
        Qualification.objects.filter(
            staff=OuterRef("staff"),
            role=OuterRef("role"),
            passed_on__lte=day,
            expires_on__gte=day,
        )
        .order_by("-expires_on")
        .values("expires_on")[:1]
    )
    return list(
        RosterEntry.objects.filter(scope_q(user, "site__path"), site=site, day=day)
        .select_related("staff")
        .annotate(qualified_until=Subquery(expiry))
        .order_by("starts_at", "role", "staff__name")
    )


def roster_entry_for_user(user, entry_id: int) -> RosterEntry:
    entry = None
    if 0 < entry_id < 2**31:
        entry = (
            RosterEntry.objects.filter(scope_q(user, "site__path"), pk=entry_id)
            .select_related("site", "staff")
            .first()
        )
    if entry is None:
        raise Http404
    return entry


def sites_for_moves(user, site: OrgUnit) -> list[OrgUnit]:
    """The other sites of the county in the user's scope, where a post can be moved."""
    return list(
        OrgUnit.objects.filter(scope_q(user), kind=UnitKind.SITE, county_code=site.county_code)
        .exclude(pk=site.pk)
        .order_by("code")
    )


def _latest_check(field: str):
    return Subquery(
        EquipmentCheck.objects.filter(equipment=OuterRef("pk"))
        .order_by("-checked_at", "-pk")
        .values(field)[:1]
    )


def site_equipment(user, site: OrgUnit, today: date | None = None) -> list[Equipment]:
    """A site's equipment with its latest check (`last_at`, `last_temperature`,
    `last_working`, `last_out_of_range`) and `checked_today`."""
    today = today or timezone.localdate()
    start = timezone.make_aware(datetime.combine(today, datetime.min.time()))
    return list(
        Equipment.objects.filter(scope_q(user, "site__path"), site=site)
        .annotate(
            last_at=_latest_check("checked_at"),
            last_temperature=_latest_check("temperature"),
            last_working=_latest_check("working"),
            last_out_of_range=_latest_check("out_of_range"),
            checked_today=Exists(
                EquipmentCheck.objects.filter(
                    equipment=OuterRef("pk"),
                    checked_at__gte=start,
                    checked_at__lt=start + timedelta(days=1),
                )
            ),
        )
        .order_by("kind", "label")
    )


def equipment_for_user(user, equipment_id: int) -> Equipment:
    equipment = None
    if 0 < equipment_id < 2**31:
        equipment = (
            Equipment.objects.filter(scope_q(user, "site__path"), pk=equipment_id)
            .select_related("site")
            .first()
        )
    if equipment is None:
        raise Http404
    return equipment


def equipment_checks(user, site: OrgUnit, *, days: int = 7):
    """The site's checks of the last `days` days, newest first: the temperature log."""
    since = timezone.now() - timedelta(days=days)
    return (
        EquipmentCheck.objects.filter(
            scope_q(user, "equipment__site__path"), equipment__site=site, checked_at__gte=since
        )
        .select_related("equipment", "checked_by")
        .order_by("-checked_at", "-pk")
    )


def equipment_alerts(user) -> list[Equipment]:
    """Equipment in the user's scope whose latest check is out of range or not in order."""
    return list(
        Equipment.objects.filter(scope_q(user, "site__path"))
        .annotate(
            last_at=_latest_check("checked_at"),
            last_temperature=_latest_check("temperature"),
            last_out_of_range=_latest_check("out_of_range"),
        )
        .filter(last_out_of_range=True)
        .select_related("site")
        .order_by("site__code", "label")
    )


def training_sessions_visible_to(user):
    """Training sessions organised by units in the user's scope, with their counts."""
    return (
        TrainingSession.objects.filter(scope_q(user, "unit__path"))
        .select_related("unit")
        .annotate(
            attended=Count("attendances"),
            passed=Count("attendances", filter=Q(attendances__passed=True)),
        )
        .order_by("-held_on", "-pk")
    )


def training_for_user(user, training_id: int) -> TrainingSession:
    training = None
    if 0 < training_id < 2**31:
        training = (
            TrainingSession.objects.filter(scope_q(user, "unit__path"), pk=training_id)
            .select_related("unit")
            .first()
        )
    if training is None:
        raise Http404
    return training


def training_attendances(user, training: TrainingSession) -> list[TrainingAttendance]:
    return list(
        TrainingAttendance.objects.filter(
            scope_q(user, "staff__unit__path"), training=training
        ).select_related("staff__unit")
    )
