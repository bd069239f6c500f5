"""Adapters only: the public pages (no login, no personal data), the booking page, the
site's check-in desk and the dispatcher's load view."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from epidispatch.registry.selectors import resident_find_for_site

from .forms import BookingForm, CheckInForm
from .models import Slot
from .selectors import (
    DOSES_PER_VACCINATOR_HOUR,
    bookable_slots,
    id_number_digest,
    public_site,
    public_sites_near,
    public_towns,
    site_appointments,
    site_for_user,
    site_loads,
    site_slots,
)
from .services import appointment_book_with_code, appointment_check_in, booking_code_send


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


@login_required
def desk(request, code: str):
    """The site's check-in desk: check a person in (or register a walk-in), then record
    the dose on the dose form."""
    site = site_for_user(request.user, code)
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
    today = timezone.localdate()
    context = {
        "site": site,
        "form": form,
        "slots": site_slots(request.user, site, today),
        "appointments": site_appointments(request.user, site, today)[:500],
    }
    return render(request, "sites/desk.html", context)


@login_required
def load(request):
    """The dispatcher's view: each site's expected load against its staffed capacity."""
    today = timezone.localdate()
    return render(
        request,
        "sites/load.html",
        {"loads": site_loads(request.user, today), "day": today, "rate": DOSES_PER_VACCINATOR_HOUR},
    )
