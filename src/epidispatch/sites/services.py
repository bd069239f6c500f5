"""Every write of the sites app: sessions, bookings, check-ins, the day's roster, training
and equipment checks. Each save lands on the audit trail (django-auditlog, registered in
apps.py), with the site's unit, whether it comes from a page, the API or a command."""

import calendar
import secrets
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from epidispatch.accounts.models import Role
from epidispatch.core import protection
from epidispatch.core.scoping import holds_role_over, path_in_scope
from epidispatch.fieldwork.reminders import ReminderMessage, get_backend
from epidispatch.orgunits.models import OrgUnit, UnitKind
from epidispatch.registry.models import Resident

from .models import (
    FRIDGE_RANGE,
    HOLDING_STATES,
    QUALIFIED_ROLES,
    Appointment,
    AppointmentState,
    BookingCode,
    Equipment,
    EquipmentCheck,
    EquipmentKind,
    Qualification,
    RosterEntry,
    Session,
    Slot,
    StaffMember,
    StaffRole,
    TrainingAttendance,
    TrainingSession,
)
from .permissions import cancels_booking, marks_no_shows

#: Who plans a site's sessions and roster: the county office and the site's own staff.
PLANNING_ROLES = (Role.DISPATCHER, Role.SITE_STAFF)
#: Who books a batch on behalf of residents of their units (a school, a department, a grid).
BATCH_ROLES = (Role.DISPATCHER, Role.TOWN_OFFICIAL, Role.GRID_WORKER)


def _require_role(user, roles, unit: OrgUnit) -> None:
    if not holds_role_over(user, roles, unit.path):
        raise PermissionDenied(_("You may not do this for %(unit)s.") % {"unit": unit.name})


@transaction.atomic
def session_create(
    *,
    site: OrgUnit,
    kind: str,
    day: date,
    opens_at: time,
    closes_at: time,
    capacity_per_hour: int,
    by,
    place: str = "",
) -> Session:
    """Open a site for part of a day, cut into one slot per started hour."""
    if site.kind != UnitKind.SITE:
        raise ValidationError(_("Sessions are opened at vaccination sites only."))
    _require_role(by, PLANNING_ROLES, site)
    if not opens_at < closes_at:
        raise ValidationError(_("A session must open before it closes."))
    if not 1 <= capacity_per_hour <= 1000:
        raise ValidationError(_("The capacity per hour is between 1 and 1000."))
    session = Session.objects.create(
        site=site,
        kind=kind,
        place=place[:100],
        day=day,
        opens_at=opens_at,
        closes_at=closes_at,
        capacity_per_hour=capacity_per_hour,
    )
    start = datetime.combine(day, opens_at)
    end = datetime.combine(day, closes_at)
    slots = []
    while start < end:
        minutes = min(60, int((end - start).total_seconds() // 60))
        capacity = max(1, capacity_per_hour * minutes // 60)
        slots.append(Slot(session=session, starts_at=start.time(), capacity=capacity))
        start += timedelta(hours=1)
    Slot.objects.bulk_create(slots)
    return session


def _take_place(slot: Slot, *, over_capacity: bool = False) -> None:
    """Raise the slot's counter in one conditional UPDATE: of any number of concurrent
    bookers exactly the free number succeed, without holding a lock across the request."""
    places = Slot.objects.filter(pk=slot.pk)
    if not over_capacity:
        places = places.filter(booked__lt=F("capacity"))
    if places.update(booked=F("booked") + 1) != 1:
        raise ValidationError(_("This time slot is full; please choose another."), code="full")


def _book(*, slot: Slot, resident: Resident, by, walk_in: bool = False, **fields) -> Appointment:
    session = slot.session
    if session.day < timezone.localdate():
        raise ValidationError(_("This time slot is in the past."), code="past")
    try:
        with transaction.atomic():
            _take_place(slot, over_capacity=walk_in)
            return Appointment.objects.create(
                slot=slot,
                site=session.site,
                day=session.day,
                resident=resident,
                booked_by=by,
                walk_in=walk_in,
                **fields,
            )
    except IntegrityError:
        raise ValidationError(
            _("%(name)s already has an appointment on %(day)s.")
            % {"name": resident.name, "day": session.day},
            code="booked_twice",
        ) from None


def booking_code_send(*, id_number_digest: str) -> BookingCode | None:
    """Send a one-time code to the phone on file of the resident with this ID number.

    Returns None, and sends nothing, when no resident with a phone matches; the page says
    the same either way, so it cannot be used to find out who is registered."""
    resident = Resident.objects.filter(id_number_digest=id_number_digest).first()
    if resident is None or not resident.phone_encrypted:
        return None
    code = f"{secrets.randbelow(1_000_000):06d}"
    booking_code = BookingCode.objects.create(
        resident=resident,
        code_digest=protection.lookup_digest(f"booking:{resident.pk}:{code}"),
        expires_at=timezone.now() + timedelta(minutes=BookingCode.VALID_MINUTES),
    )
    get_backend().send(
        ReminderMessage(
            reminder_id=booking_code.pk,
            phone=protection.decrypt(resident.phone_encrypted),
            phone_masked=resident.phone_masked,
            text=_("Your vaccination booking code is %(code)s, valid for %(minutes)d minutes.")
            % {"code": code, "minutes": BookingCode.VALID_MINUTES},
        )
    )
    return booking_code


def _resident_proved(*, id_number_digest: str, code: str) -> Resident | None:
    """Inside the caller's transaction: the resident whose live code this is, the code
    used up with it; None for a wrong guess, which is counted (the caller commits that
    count before refusing, so guessing burns the code after MAX_ATTEMPTS)."""
    booking_code = (
        BookingCode.objects.select_for_update(of=("self",))
        .filter(
            resident__id_number_digest=id_number_digest,
            used=False,
            expires_at__gt=timezone.now(),
            attempts__lt=BookingCode.MAX_ATTEMPTS,
        )
        .select_related("resident")
        .order_by("-id")
        .first()
    )
    if booking_code is None:
        return None
    resident = booking_code.resident
    expected = protection.lookup_digest(f"booking:{resident.pk}:{code}")
    if secrets.compare_digest(booking_code.code_digest, expected):
        BookingCode.objects.filter(pk=booking_code.pk).update(used=True)
        return resident
    BookingCode.objects.filter(pk=booking_code.pk).update(attempts=F("attempts") + 1)
    return None


def appointment_book_with_code(*, id_number_digest: str, code: str, slot: Slot) -> Appointment:
    """A resident books on their phone, proving who they are with the code just sent.

    A wrong guess is counted in its own committed transaction, so guessing burns the
    code after MAX_ATTEMPTS; a right one is used up in the booking's transaction."""
    with transaction.atomic():
        resident = _resident_proved(id_number_digest=id_number_digest, code=code)
        if resident is not None:
            return _book(slot=slot, resident=resident, by=None)
    raise ValidationError(_("The code is wrong or has expired."), code="bad_code")


def appointments_cancel_with_code(*, id_number_digest: str, code: str) -> list[Appointment]:
    """A resident cancels their coming bookings (today's and later ones not yet checked
    in) on their phone, proving who they are with the code just sent, as for booking;
    each place is given back. Returns what was cancelled, none when nothing was booked."""
    with transaction.atomic():
        resident = _resident_proved(id_number_digest=id_number_digest, code=code)
        if resident is not None:
            coming = list(
                Appointment.objects.filter(
                    resident=resident,
                    state=AppointmentState.BOOKED,
                    day__gte=timezone.localdate(),
                )
                .select_related("site", "slot")
                .order_by("day", "slot__starts_at")
            )
            for appointment in coming:
                appointment.state = appointment_cancel(appointment=appointment, by=None).state
            return coming
    raise ValidationError(_("The code is wrong or has expired."), code="bad_code")


@transaction.atomic
def appointments_book_batch(
    *, slot: Slot, residents: list[Resident], by, group: str, transport: str = ""
) -> list[Appointment]:
    """A unit books a group (a class, a department, elderly people brought by their grid
    worker) on their behalf; all of them or none."""
    for resident in residents:
        if not (
            path_in_scope(by, resident.grid.path)
            and holds_role_over(by, BATCH_ROLES, resident.grid.path)
        ):
            raise PermissionDenied(_("%(name)s is not in your units.") % {"name": resident.name})
    if len(residents) > slot.capacity - slot.booked:
        raise ValidationError(_("This time slot is full; please choose another."), code="full")
    appointments = [
        _book(slot=slot, resident=resident, by=by, group=group[:100], transport=transport[:100])
        for resident in residents
    ]
    return appointments


def _release(appointment: Appointment, state: str) -> None:
    Slot.objects.filter(pk=appointment.slot_id).update(booked=F("booked") - 1)
    appointment.state = state
    appointment.save(update_fields=["state"])


@transaction.atomic
def appointment_cancel(*, appointment: Appointment, by) -> Appointment:
    """Cancel a booking and give its place back to the slot. `by` is None for the
    resident themself, who proved who they are with a code (`appointment_cancel_with_code`);
    else the site's office or staff, or whoever booked it (`cancels_booking`)."""
    if by is not None and not cancels_booking(by, appointment):
        raise PermissionDenied(
            _("You may not cancel bookings at %(site)s.") % {"site": appointment.site.name}
        )
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.state != AppointmentState.BOOKED:
        raise ValidationError(_("Only a booked appointment can be cancelled."))
    _release(appointment, AppointmentState.CANCELLED)
    return appointment


@transaction.atomic
def appointment_no_show(*, appointment: Appointment, by) -> Appointment:
    """Site staff mark a booking whose person did not come; the place is not given back
    (the hour has passed) but the person may book another day."""
    if not marks_no_shows(by, appointment.site):
        raise PermissionDenied(
            _("You may not do this for %(unit)s.") % {"unit": appointment.site.name}
        )
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("slot")
        .get(pk=appointment.pk)
    )
    if appointment.state != AppointmentState.BOOKED:
        raise ValidationError(_("Only a booked appointment can be marked as not come."))
    starts = timezone.make_aware(datetime.combine(appointment.day, appointment.slot.starts_at))
    if starts > timezone.now():
        raise ValidationError(
            _("A booking is marked as not come once its hour has begun (%(time)s).")
            % {"time": f"{appointment.slot.starts_at:%H:%M}"}
        )
    appointment.state = AppointmentState.NO_SHOW
    appointment.save(update_fields=["state"])
    return appointment


@transaction.atomic
def appointment_check_in(*, site: OrgUnit, resident: Resident, by) -> Appointment:
    """The person is at the site: check in today's booking, or register a walk-in in the
    current hour's slot (over its capacity: they are already here)."""
    _require_role(by, (Role.SITE_STAFF,), site)
    today = timezone.localdate()
    appointment = (
        Appointment.objects.select_for_update()
        .filter(resident=resident, day=today, state__in=HOLDING_STATES)
        .first()
    )
    if appointment is not None and appointment.site_id != site.pk:
        raise ValidationError(
            _("%(name)s is booked at %(site)s today.")
            % {"name": resident.name, "site": appointment.site.name}
        )
    if appointment is None:
        slot = _current_slot(site)
        appointment = _book(slot=slot, resident=resident, by=by, walk_in=True)
    elif appointment.state != AppointmentState.BOOKED:
        return appointment
    appointment.state = AppointmentState.CHECKED_IN
    appointment.checked_in_at = timezone.now()
    appointment.save(update_fields=["state", "checked_in_at"])
    return appointment


def _current_slot(site: OrgUnit) -> Slot:
    now = timezone.localtime()
    slots = Slot.objects.select_related("session").filter(
        session__site=site, session__day=now.date()
    )
    current = slots.filter(starts_at__lte=now.time()).order_by("-starts_at").first()
    slot = current or slots.order_by("starts_at").first()
    if slot is None:
        raise ValidationError(_("The site has no session open today."))
    return slot


def appointment_mark_vaccinated(sender, *, dose, by, **kwargs) -> None:
    """Receiver of `dose_recorded`: the checked-in person got their dose, so they no
    longer wait and their slot shows as used. Saved row by row (one at most: one holding
    appointment per person and day) so the change is on the audit trail."""
    for appointment in Appointment.objects.filter(
        resident_id=dose.resident_id,
        site_id=dose.site_id,
        day=dose.given_on,
        state__in=(AppointmentState.BOOKED, AppointmentState.CHECKED_IN),
    ).select_related("site"):
        appointment.state = AppointmentState.VACCINATED
        appointment.save(update_fields=["state"])


@transaction.atomic
def staff_create(*, name: str, unit: OrgUnit, by) -> StaffMember:
    """Register a medical worker (医护人员) of a site, a health centre or the county."""
    _require_role(by, PLANNING_ROLES, unit)
    name = name.strip()[:60]
    if not name:
        raise ValidationError(_("A staff member needs a name."))
    return StaffMember.objects.create(name=name, unit=unit)


@transaction.atomic
def qualification_record(
    *, staff: StaffMember, role: str, passed_on: date, expires_on: date, by
) -> Qualification:
    """Record passed training (培训合格) for a role."""
    _require_role(by, PLANNING_ROLES, staff.unit)
    if not passed_on <= expires_on:
        raise ValidationError(_("A qualification cannot expire before it was passed."))
    qualification = Qualification.objects.create(
        staff=staff, role=role, passed_on=passed_on, expires_on=expires_on
    )
    return qualification


@transaction.atomic
def roster_assign(
    *, staff: StaffMember, site: OrgUnit, role: str, day: date, starts_at: time, ends_at: time, by
) -> RosterEntry:
    """Put a person on a post at a site for part of a day (排班; moving a person between
    sites for a day is removing one entry and assigning another).

    The person's row is locked first, so two dispatchers rostering the same person at
    once are checked one after the other and cannot both succeed."""
    if site.kind != UnitKind.SITE:
        raise ValidationError(_("Staff are rostered at vaccination sites only."))
    _require_role(by, PLANNING_ROLES, site)
    if not starts_at < ends_at:
        raise ValidationError(_("A post must start before it ends."))
    staff = StaffMember.objects.select_for_update().get(pk=staff.pk)
    if (
        role in QUALIFIED_ROLES
        and not Qualification.objects.filter(
            staff=staff, role=role, passed_on__lte=day, expires_on__gte=day
        ).exists()
    ):
        raise ValidationError(
            _("%(name)s has no valid qualification as %(role)s on %(day)s.")
            % {"name": staff.name, "role": _role_label(role), "day": day},
            code="unqualified",
        )
    clash = (
        RosterEntry.objects.filter(
            staff=staff, day=day, starts_at__lt=ends_at, ends_at__gt=starts_at
        )
        .select_related("site")
        .first()
    )
    if clash is not None:
        raise ValidationError(
            _("%(name)s is already at %(site)s from %(start)s to %(end)s that day.")
            % {
                "name": staff.name,
                "site": clash.site.name,
                "start": f"{clash.starts_at:%H:%M}",
                "end": f"{clash.ends_at:%H:%M}",
            },
            code="double_booked",
        )
    entry = RosterEntry.objects.create(
        staff=staff, site=site, role=role, day=day, starts_at=starts_at, ends_at=ends_at
    )
    return entry


def _role_label(role: str) -> str:
    return str(StaffRole(role).label)


@transaction.atomic
def roster_move(*, entry: RosterEntry, site: OrgUnit, by) -> RosterEntry:
    """Move a person's post to another site for the same hours (the dispatcher balancing
    sites for a day); the same checks as a new post, and nothing changes if one fails."""
    _require_role(by, PLANNING_ROLES, entry.site)
    RosterEntry.objects.filter(pk=entry.pk).delete()
    return roster_assign(
        staff=entry.staff,
        site=site,
        role=entry.role,
        day=entry.day,
        starts_at=entry.starts_at,
        ends_at=entry.ends_at,
        by=by,
    )


@transaction.atomic
def roster_remove(*, entry: RosterEntry, by) -> None:
    """Take a person off a post (they are ill, or needed elsewhere)."""
    _require_role(by, PLANNING_ROLES, entry.site)
    RosterEntry.objects.filter(pk=entry.pk).delete()


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@transaction.atomic
def training_session_create(
    *, unit: OrgUnit, title: str, role: str, held_on: date, valid_months: int = 12, by
) -> TrainingSession:
    """Record a training (加强接种人员培训) held by a unit for one post."""
    _require_role(by, PLANNING_ROLES, unit)
    title = title.strip()[:100]
    if not title:
        raise ValidationError(_("A training session needs a title."))
    if role not in StaffRole.values:
        raise ValidationError(_("Unknown post."))
    if not 1 <= valid_months <= 60:
        raise ValidationError(_("A qualification is valid for 1 to 60 months."))
    return TrainingSession.objects.create(
        unit=unit, title=title, role=role, held_on=held_on, valid_months=valid_months, created_by=by
    )


@transaction.atomic
def training_result_record(
    *, training: TrainingSession, staff: StaffMember, passed: bool, by
) -> TrainingAttendance:
    """Record that a person attended a training and whether they passed. Passing
    qualifies them (培训合格) for the training's post from the day it was held for its
    valid months, which the roster rules read; recording a fail later withdraws that
    qualification again. Recording the same result twice changes nothing."""
    _require_role(by, PLANNING_ROLES, training.unit)
    if not holds_role_over(by, PLANNING_ROLES, staff.unit.path):
        raise PermissionDenied(_("%(name)s is not in your units.") % {"name": staff.name})
    if training.held_on > timezone.localdate():
        raise ValidationError(_("Results are recorded once the training has been held."))
    attendance, created = TrainingAttendance.objects.get_or_create(
        training=training, staff=staff, defaults={"passed": passed}
    )
    if not created and attendance.passed != passed:
        attendance.passed = passed
        attendance.save(update_fields=["passed"])
    if passed:
        Qualification.objects.get_or_create(
            staff=staff,
            training=training,
            defaults={
                "role": training.role,
                "passed_on": training.held_on,
                "expires_on": add_months(training.held_on, training.valid_months)
                - timedelta(days=1),
            },
        )
    else:
        for qualification in Qualification.objects.filter(staff=staff, training=training):
            qualification.delete()
    return attendance


@transaction.atomic
def equipment_add(*, site: OrgUnit, kind: str, label: str, by) -> Equipment:
    """Register a refrigerator, emergency kit or generator of a site."""
    if site.kind != UnitKind.SITE:
        raise ValidationError(_("Equipment belongs to vaccination sites only."))
    _require_role(by, PLANNING_ROLES, site)
    label = label.strip()[:60]
    if kind not in EquipmentKind.values or not label:
        raise ValidationError(_("Equipment needs a kind and a label."))
    if Equipment.objects.filter(site=site, label=label).exists():
        raise ValidationError(
            _("%(site)s already has equipment labelled %(label)s.")
            % {"site": site.name, "label": label}
        )
    return Equipment.objects.create(site=site, kind=kind, label=label)


#: The readings a refrigerator's thermometer can show at all; anything else is a typo.
PLAUSIBLE_TEMPERATURE = (Decimal("-40.0"), Decimal("60.0"))


@transaction.atomic
def equipment_check_record(
    *,
    equipment: Equipment,
    working: bool,
    by,
    temperature: Decimal | None = None,
    note: str = "",
    checked_at: datetime | None = None,
) -> EquipmentCheck:
    """Record a check. A refrigerator needs its temperature and is out of range outside
    2–8 °C; any equipment that is not in order (a kit short of adrenaline, a generator
    that does not start) is flagged too."""
    _require_role(by, PLANNING_ROLES, equipment.site)
    if equipment.kind == EquipmentKind.FRIDGE:
        if temperature is None:
            raise ValidationError(_("A refrigerator check needs the temperature."))
        low, high = PLAUSIBLE_TEMPERATURE
        if not low <= temperature <= high:
            raise ValidationError(
                _("%(value)s °C is not a refrigerator reading; check the thermometer.")
                % {"value": temperature}
            )
        in_range = FRIDGE_RANGE[0] <= temperature <= FRIDGE_RANGE[1]
    else:
        temperature = None
        in_range = True
    return EquipmentCheck.objects.create(
        equipment=equipment,
        checked_at=checked_at or timezone.now(),
        temperature=temperature,
        working=working,
        out_of_range=not (in_range and working),
        note=note.strip()[:200],
        checked_by=by,
    )
