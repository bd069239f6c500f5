"""Every read the sites pages show. Reads of people take the acting user first and are
scoped to the user's units; the public reads return counts and hours only."""

from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q, Sum
from django.http import Http404
from django.utils import timezone

from epidispatch.core import protection
from epidispatch.core.ids import parse_id_number
from epidispatch.core.scoping import scope_q
from epidispatch.orgunits.models import OrgUnit, UnitKind
from epidispatch.orgunits.selectors import unit_for_user

from .models import Appointment, AppointmentState, RosterEntry, Session, Slot, StaffRole

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


@dataclass(frozen=True)
class SiteLoad:
    site: OrgUnit
    expected: int
    capacity: int
    staffed: int

    @property
    def short(self) -> bool:
        return self.expected > self.staffed


def site_loads(user, day: date) -> list[SiteLoad]:
    """Each site in the user's scope: people expected (appointments held), the sessions'
    capacity and the capacity its rostered vaccinators can give."""
    sites = list(OrgUnit.objects.filter(scope_q(user), kind=UnitKind.SITE).order_by("code"))
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
    return [
        SiteLoad(
            site=site,
            expected=expected.get(site.pk, 0),
            capacity=capacity.get(site.pk, 0),
            staffed=minutes.get(site.pk, 0) * DOSES_PER_VACCINATOR_HOUR // 60,
        )
        for site in sites
    ]
