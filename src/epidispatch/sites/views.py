"""Adapters only: the public pages (no login, no personal data), the booking page, the
site's check-in desk, its roster (排班) and equipment checks, training sessions and the
dispatcher's load view."""

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from epidispatch.core.scoping import holds_role_over, role_paths
from epidispatch.orgunits.models import OrgUnit
from epidispatch.registry.selectors import resident_find_for_site

from .forms import (
    BookingForm,
    CancelBookingForm,
    CheckInForm,
    EquipmentCheckForm,
    RosterForm,
    RosterMoveForm,
    TrainingForm,
    TrainingResultForm,
)
from .models import Slot
from .permissions import cancels_bookings, marks_no_shows
from .selectors import (
    DOSES_PER_VACCINATOR_HOUR,
    appointment_for_user,
    bookable_slots,
    equipment_alerts,
    equipment_checks,
    equipment_for_user,
    id_number_digest,
    public_site,
    public_sites_near,
    public_towns,
    roster_day,
    roster_entry_for_user,
    site_appointments,
    site_equipment,
    site_for_user,
    site_loads,
    site_slots,
    sites_for_moves,
    staff_for_roster,
    staff_visible_to,
    training_attendances,
    training_for_user,
    training_sessions_visible_to,
)
from .services import (
    PLANNING_ROLES,
    appointment_book_with_code,
    appointment_cancel,
    appointment_check_in,
    appointment_no_show,
    appointments_cancel_with_code,
    booking_code_send,
    equipment_check_record,
    roster_assign,
    roster_move,
    roster_remove,
    training_result_record,
    training_session_create,
)


def public_index(request):
    """接种点查询: the sites near a town, today's hours, free places and queue."""
    towns = public_towns()
    town_code = request.GET.get("town", "")[:12]
    town = next((town for town in towns if town.code == town_code), None)
    sites = public_sites_near(town) if town else []
    return render(request, "sites/public.html", {"towns": towns, "town": town, "sites": sites})


def book(request, code: str):
    """A resident books on a phone: ID number → code to the phone on file → a time."""
    site = public_site(code)
    slots = bookable_slots(site)
    form = BookingForm(request.POST or None, slots=slots)
    appointment = None
    code_asked = False
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        digest = id_number_digest(data["id_number"])
        if digest is None:
            form.add_error("id_number", _("This is not a valid ID number."))
        elif not data["code"]:
            booking_code_send(id_number_digest=digest)
            code_asked = True
        elif not data["slot"]:
            code_asked = True
            form.add_error("slot", _("Choose a time."))
        else:
            code_asked = True
            slot = Slot.objects.filter(pk=data["slot"], session__site=site).first()
            try:
                if slot is None:
                    raise ValidationError(_("Choose a time."))
                appointment = appointment_book_with_code(
                    id_number_digest=digest, code=data["code"], slot=slot
                )
            except ValidationError as error:
                form.add_error(None, error)
    return render(
        request,
        "sites/book.html",
        {"site": site, "form": form, "code_asked": code_asked, "appointment": appointment},
    )


def cancel_booking(request):
    """A resident cancels their coming bookings on a phone: ID number → code to the phone
    on file → the bookings of today and later are cancelled and their places freed."""
    form = CancelBookingForm(request.POST or None)
    cancelled = None
    code_asked = False
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        digest = id_number_digest(data["id_number"])
        code_asked = True
        if digest is None:
            code_asked = False
            form.add_error("id_number", _("This is not a valid ID number."))
        elif not data["code"]:
            booking_code_send(id_number_digest=digest)
        else:
            try:
                cancelled = appointments_cancel_with_code(
                    id_number_digest=digest, code=data["code"]
                )
            except ValidationError as error:
                form.add_error(None, error)
    return render(
        request,
        "sites/cancel.html",
        {"form": form, "code_asked": code_asked, "cancelled": cancelled},
    )


@login_required
def desk(request, code: str):
    """The site's check-in desk: check a person in (or register a walk-in), then record
    the dose on the dose form; a day's bookings, each with its cancel and no-show buttons
    for who may press them (another day's for a resident who phones to cancel)."""
    site = site_for_user(request.user, code)
    today = timezone.localdate()
    day = _day(request)
    form = CheckInForm(request.POST or None)
    if form.is_bound and form.is_valid():
        resident = resident_find_for_site(request.user, site, form.cleaned_data["id_number"])
        if resident is None:
            form.add_error("id_number", _("No resident with this ID number in this county."))
        else:
            try:
                appointment_check_in(site=site, resident=resident, by=request.user)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("%(name)s checked in.") % {"name": resident.name})
                return redirect("dose_new", code=site.code)
    now = timezone.localtime()
    appointments = list(site_appointments(request.user, site, day)[:500])
    for appointment in appointments:
        appointment.begun = (appointment.day, appointment.slot.starts_at) <= (
            now.date(),
            now.time(),
        )
    context = {
        "site": site,
        "form": form,
        "day": day,
        "today": today,
        "previous": day - timedelta(days=1),
        "next": day + timedelta(days=1),
        "slots": site_slots(request.user, site, day),
        "appointments": appointments,
        "may_cancel": cancels_bookings(request.user, site),
        "may_mark_no_show": marks_no_shows(request.user, site),
    }
    return render(request, "sites/desk.html", context)


@login_required
@require_POST
def appointment_act(request, code: str, pk: int):
    """The desk's buttons on one booking: cancel it (the place is free again) or mark
    that the person did not come; the desk of the booking's day answers."""
    site = site_for_user(request.user, code)
    appointment = appointment_for_user(request.user, site, pk)
    name = appointment.resident.name
    action = request.POST.get("action", "")
    try:
        if action == "cancel":
            appointment_cancel(appointment=appointment, by=request.user)
            messages.success(
                request,
                _("The booking of %(name)s is cancelled; its place is free.") % {"name": name},
            )
        elif action == "no_show":
            appointment_no_show(appointment=appointment, by=request.user)
            messages.success(request, _("%(name)s marked as not come.") % {"name": name})
        else:
            return HttpResponseBadRequest(_("Unknown action."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(f"{reverse('sites:desk', args=[site.code])}?day={appointment.day:%Y-%m-%d}")


@login_required
def load(request):
    """The dispatcher's view: each site's expected load (appointments, due doses, its
    share of the 清零 list) against its staffed capacity, and equipment out of range."""
    day = _day(request)
    return render(
        request,
        "sites/load.html",
        {
            "loads": site_loads(request.user, day),
            "alerts": equipment_alerts(request.user),
            "day": day,
            "rate": DOSES_PER_VACCINATOR_HOUR,
        },
    )


def _day(request) -> date:
    """The `day` asked for (YYYY-MM-DD), today when absent or not a date."""
    try:
        return date.fromisoformat(request.GET.get("day", "")[:10])
    except ValueError:
        return timezone.localdate()


@login_required
def roster(request, code: str):
    """排班: a site's posts of a day; planners add, move and remove posts, and the
    rules (qualification valid that day, one place at a time) answer in plain words."""
    site = site_for_user(request.user, code)
    day = _day(request)
    may_plan = holds_role_over(request.user, PLANNING_ROLES, site.path)
    staff = staff_for_roster(request.user, site, day) if may_plan else []
    move_sites = sites_for_moves(request.user, site) if may_plan else []
    form = RosterForm(staff=staff)
    if request.method == "POST":
        if not may_plan:
            raise PermissionDenied
        action = request.POST.get("action", "")
        try:
            if action == "remove":
                entry = _entry(request)
                roster_remove(entry=entry, by=request.user)
                messages.success(
                    request, _("%(name)s taken off the roster.") % {"name": entry.staff}
                )
                return redirect(_roster_url(site, day))
            if action == "move":
                move = RosterMoveForm(request.POST, sites=move_sites)
                if not move.is_valid():
                    raise ValidationError(_("Choose a post and a site."))
                entry = roster_entry_for_user(request.user, move.cleaned_data["entry"])
                target = next(s for s in move_sites if s.code == move.cleaned_data["site"])
                roster_move(entry=entry, site=target, by=request.user)
                messages.success(
                    request,
                    _("%(name)s moved to %(site)s.") % {"name": entry.staff, "site": target.name},
                )
                return redirect(_roster_url(site, day))
            form = RosterForm(request.POST, staff=staff)
            if form.is_valid():
                data = form.cleaned_data
                member = next(m for m in staff if m.pk == data["staff"])
                roster_assign(
                    staff=member,
                    site=site,
                    role=data["role"],
                    day=day,
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    by=request.user,
                )
                messages.success(request, _("%(name)s rostered.") % {"name": member.name})
                return redirect(_roster_url(site, day))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    entries = roster_day(request.user, site, day)
    load_row = next(iter(site_loads(request.user, day, only=site)), None)
    context = {
        "site": site,
        "day": day,
        "previous": day - timedelta(days=1),
        "next": day + timedelta(days=1),
        "entries": entries,
        "form": form,
        "may_plan": may_plan,
        "move_sites": move_sites,
        "load": load_row,
    }
    return render(request, "sites/roster.html", context)


def _entry(request):
    try:
        entry_id = int(request.POST.get("entry", "")[:12])
    except ValueError:
        raise Http404 from None
    return roster_entry_for_user(request.user, entry_id)


def _roster_url(site: OrgUnit, day: date) -> str:
    return f"{reverse('sites:roster', args=[site.code])}?day={day:%Y-%m-%d}"


@login_required
def equipment(request, code: str):
    """A site's equipment with its latest check, a form per piece to record one, and the
    log of the last week; readings out of range are flagged."""
    site = site_for_user(request.user, code)
    may_check = holds_role_over(request.user, PLANNING_ROLES, site.path)
    failed: EquipmentCheckForm | None = None
    if request.method == "POST":
        if not may_check:
            raise PermissionDenied
        form = EquipmentCheckForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            item = equipment_for_user(request.user, data["equipment"])
            if item.site_id != site.pk:
                raise Http404
            try:
                check = equipment_check_record(
                    equipment=item,
                    temperature=data["temperature"],
                    working=data["working"],
                    note=data["note"],
                    by=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if check.out_of_range:
                    messages.warning(
                        request,
                        _("%(label)s is out of range: report it and move the vaccines if needed.")
                        % {"label": item.label},
                    )
                else:
                    messages.success(
                        request, _("Check of %(label)s recorded.") % {"label": item.label}
                    )
                return redirect("sites:equipment", code=site.code)
        failed = form
    items = site_equipment(request.user, site)
    for item in items:
        item.form = (
            failed
            if failed is not None and failed.data.get("equipment") == str(item.pk)
            else EquipmentCheckForm(initial={"equipment": item.pk}, auto_id=f"id_%s_{item.pk}")
        )
    context = {
        "site": site,
        "items": items,
        "may_check": may_check,
        "checks": equipment_checks(request.user, site)[:200],
    }
    return render(request, "sites/equipment.html", context)


def _planning_units(user) -> list[OrgUnit]:
    return list(OrgUnit.objects.filter(path__in=role_paths(user, PLANNING_ROLES)).order_by("code"))


@login_required
def training_index(request):
    """Training sessions (接种人员培训) of the user's units; planners add one."""
    units = _planning_units(request.user)
    form = TrainingForm(request.POST or None, units=units)
    if request.method == "POST":
        if not units:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            unit = next(u for u in units if u.code == data["unit"])
            try:
                training = training_session_create(
                    unit=unit,
                    title=data["title"],
                    role=data["role"],
                    held_on=data["held_on"],
                    valid_months=data["valid_months"],
                    by=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return redirect("sites:training", pk=training.pk)
    context = {
        "trainings": training_sessions_visible_to(request.user)[:200],
        "form": form if units else None,
    }
    return render(request, "sites/training_index.html", context)


@login_required
def training(request, pk: int):
    """One training session: who attended and who passed (passing qualifies them)."""
    session = training_for_user(request.user, pk)
    may_record = holds_role_over(request.user, PLANNING_ROLES, session.unit.path)
    staff = (
        list(
            staff_visible_to(request.user)
            .filter(unit__county_code=session.unit.county_code)
            .order_by("name", "pk")[:500]
        )
        if may_record
        else []
    )
    form = TrainingResultForm(request.POST or None, staff=staff)
    if request.method == "POST":
        if not may_record:
            raise PermissionDenied
        if form.is_valid():
            member = next(m for m in staff if m.pk == form.cleaned_data["staff"])
            try:
                training_result_record(
                    training=session,
                    staff=member,
                    passed=form.cleaned_data["passed"],
                    by=request.user,
                )
            except (ValidationError, PermissionDenied) as error:
                form.add_error(None, getattr(error, "messages", None) or str(error))
            else:
                messages.success(request, _("Result of %(name)s recorded.") % {"name": member.name})
                return redirect("sites:training", pk=session.pk)
    context = {
        "session": session,
        "attendances": training_attendances(request.user, session),
        "form": form if may_record else None,
    }
    return render(request, "sites/training.html", context)
