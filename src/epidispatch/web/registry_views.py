"""The registry's pages: residents of a unit, one resident (with unmasking), recording a
dose at a site, the 清零 and due lists with their exports, the audit log.

Adapters only: reads go through the domain apps' scoped selectors, writes through their
services. A unit or resident outside the user's scope is a 404, as everywhere.
"""

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from epidispatch.audit.permissions import audit_log_readable_by
from epidispatch.audit.selectors import TrailFilters, audit_kinds, audit_trail
from epidispatch.audit.services import audit_export, client_ip
from epidispatch.core.exports import write_xlsx
from epidispatch.fieldwork.selectors import visits_of
from epidispatch.orgunits.models import UnitKind
from epidispatch.orgunits.selectors import (
    scope_roots,
    under_unit_q,
    unit_for_user,
    units_visible_to,
)
from epidispatch.registry.models import UnvaccinatedReason
from epidispatch.registry.permissions import unmasks
from epidispatch.registry.selectors import (
    household_members_of,
    resident_find,
    resident_find_for_site,
    resident_for_user,
    residents_matching,
    residents_visible_to,
)
from epidispatch.registry.services import resident_unmask
from epidispatch.vaccination.permissions import corrects_doses, records_doses_at
from epidispatch.vaccination.selectors import (
    clearance_counts_by_reason,
    clearance_list,
    due_list,
)
from epidispatch.vaccination.services import dose_record

from .forms import (
    NO_REASON,
    AuditFilter,
    ClearanceFilter,
    DoseForm,
    DueFilter,
    ResidentFilter,
)

PAGE_SIZE = 50
#: Visits (入户核查) shown on a resident's page, newest first.
VISIT_HISTORY = 20


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _grids(user, unit):
    return units_visible_to(user, kind=UnitKind.GRID).filter(under_unit_q(unit))


def _xlsx_response(name: str, headers: list[str], rows, sheet_title: str) -> FileResponse:
    """An .xlsx download; Django writes a non-ASCII name as RFC 5987 `filename*`."""
    buffer = io.BytesIO()
    write_xlsx(buffer, headers, rows, sheet_title)
    buffer.seek(0)
    return FileResponse(
        buffer, as_attachment=True, filename=f"{name}-{timezone.localdate():%Y-%m-%d}.xlsx"
    )


def _wants_xlsx(request) -> bool:
    return request.GET.get("format") == "xlsx"


@login_required
def residents_home(request):
    roots = scope_roots(request.user)
    if len(roots) == 1:
        return redirect("resident_list", code=roots[0].code)
    return render(request, "web/registry/residents_home.html", {"roots": roots})


@login_required
def resident_list(request, code: str):
    unit = unit_for_user(request.user, code)
    id_number = request.GET.get("id_number", "").strip()
    if id_number:
        found = resident_find(request.user, id_number)
        if found:
            return redirect("resident_detail", pk=found.pk)
    places = units_visible_to(request.user).filter(
        under_unit_q(unit), kind__in=(UnitKind.TOWN, UnitKind.VILLAGE)
    )
    filters = ResidentFilter(request.GET, grids=_grids(request.user, unit), places=places)
    residents = residents_matching(
        residents_visible_to(request.user).filter(under_unit_q(unit, "grid__path")),
        filters.value("q"),
    )
    for kind in ("town", "village", "grid"):
        if code := filters.value(kind):
            residents = residents.filter(grid__path__contains=f"/{code}/")
    if status := filters.value("status"):
        residents = residents.filter(status=status)
    residents = residents.select_related("grid", "vaccination").order_by("grid__code", "name", "pk")
    return render(
        request,
        "web/registry/resident_list.html",
        {
            "unit": unit,
            "filters": filters,
            "id_number": id_number,
            "page": _page(request, residents),
        },
    )


@login_required
def resident_detail(request, pk: int):
    return _resident_page(request, resident_for_user(request.user, pk))


@login_required
@require_POST
@never_cache
def resident_unmask_view(request, pk: int):
    """The clear ID number and phone, on this response only (never kept in the session);
    the service refuses roles that may not see them and writes the audit entry."""
    resident = resident_for_user(request.user, pk)
    unmasked = resident_unmask(user=request.user, resident=resident, ip_address=client_ip(request))
    return _resident_page(request, resident, unmasked)


def _resident_page(request, resident, unmasked=None):
    status = getattr(resident, "vaccination", None)
    doses = list(resident.doses.select_related("product", "site").order_by("dose_number"))
    for dose in doses:
        dose.resident = resident
    return render(
        request,
        "web/registry/resident_detail.html",
        {
            "resident": resident,
            "doses": doses,
            "changeable": {dose.pk for dose in doses if corrects_doses(request.user, dose)},
            "status": status,
            "overdue": bool(
                status and status.next_due_by and status.next_due_by < timezone.localdate()
            ),
            "unmasked": unmasked,
            "may_unmask": unmasks(request.user, resident),
            "visits": list(visits_of(request.user, resident)[:VISIT_HISTORY]),
            "household": household_members_of(request.user, resident),
        },
    )


@login_required
def dose_new(request, code: str):
    """接种登记 at a site: find the person by ID number, record the dose, ready for the next."""
    site = unit_for_user(request.user, code)
    if site.kind != UnitKind.SITE:
        raise Http404
    if not records_doses_at(request.user, site):
        raise PermissionDenied
    form = DoseForm(request.POST) if request.method == "POST" else DoseForm()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        resident = resident_find_for_site(request.user, site, data["id_number"])
        if resident is None:
            form.add_error("id_number", _("No resident with this ID number in this county."))
        else:
            try:
                dose = dose_record(
                    resident=resident,
                    product=data["product"],
                    given_on=data["given_on"],
                    site=site,
                    by=request.user,
                    lot_number=data["lot_number"],
                    trace_code=data["trace_code"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    _("Dose %(number)d recorded for %(resident)s.")
                    % {"number": dose.dose_number, "resident": resident},
                )
                return redirect("dose_new", code=site.code)
    return render(request, "web/registry/dose_form.html", {"site": site, "form": form})


@login_required
def clearance(request, code: str):
    """清零 list of a unit: counts by 未接种原因, the people, and its .xlsx export."""
    unit = unit_for_user(request.user, code)
    filters = ClearanceFilter(request.GET, grids=_grids(request.user, unit))
    grid, ages = filters.value("grid"), filters.value("ages")
    residents = clearance_list(
        request.user, unit, grid_code=grid, reason=filters.selected_reason(), ages=ages
    )
    if _wants_xlsx(request):
        audit_export(
            user=request.user, what=_("Clearance list"), unit=unit, ip_address=client_ip(request)
        )
        return _xlsx_response(
            _("Clearance list %(unit)s") % {"unit": unit.name},
            [
                _("Grid"),
                _("Name"),
                _("ID number"),
                _("Phone"),
                _("Birth date"),
                _("Sex"),
                _("Status"),
                _("Reason not vaccinated"),
            ],
            (
                (
                    r.grid.name,
                    r.name,
                    r.id_number_masked,
                    r.phone_masked,
                    r.birth_date,
                    r.get_sex_display(),
                    r.get_status_display(),
                    r.get_unvaccinated_reason_display(),
                )
                for r in residents.iterator(chunk_size=2000)
            ),
            _("Clearance list"),
        )
    counts = clearance_counts_by_reason(request.user, unit, grid_code=grid, ages=ages)
    reasons = [(value, label, counts.get(value, 0)) for value, label in UnvaccinatedReason.choices]
    reasons.append((NO_REASON, _("No reason recorded"), counts.get("", 0)))
    return render(
        request,
        "web/registry/clearance.html",
        {
            "unit": unit,
            "filters": filters,
            "reasons": reasons,
            "total": sum(counts.values()),
            "page": _page(request, residents),
        },
    )


@login_required
def due(request, code: str):
    """People whose next dose of the primary series is due, the overdue first."""
    unit = unit_for_user(request.user, code)
    filters = DueFilter(request.GET, grids=_grids(request.user, unit))
    statuses = due_list(
        request.user,
        unit,
        grid_code=filters.value("grid"),
        overdue_only=filters.value("overdue"),
    )
    if _wants_xlsx(request):
        audit_export(
            user=request.user, what=_("Next doses due"), unit=unit, ip_address=client_ip(request)
        )
        return _xlsx_response(
            _("Next doses due %(unit)s") % {"unit": unit.name},
            [
                _("Grid"),
                _("Name"),
                _("ID number"),
                _("Phone"),
                _("Doses so far"),
                _("Last dose on"),
                _("Next dose"),
                _("From"),
                _("By"),
                _("Overdue"),
            ],
            (
                (
                    s.resident.grid.name,
                    s.resident.name,
                    s.resident.id_number_masked,
                    s.resident.phone_masked,
                    s.doses,
                    s.last_dose_on,
                    s.next_dose_number,
                    s.next_due_from,
                    s.next_due_by,
                    _("Yes") if s.overdue else _("No"),
                )
                for s in statuses.iterator(chunk_size=2000)
            ),
            _("Next doses due"),
        )
    return render(
        request,
        "web/registry/due.html",
        {"unit": unit, "filters": filters, "page": _page(request, statuses)},
    )


AUDIT_PAGE_SIZE = 100


@require_GET
@login_required
def audit_log(request):
    """The audit trail is the dispatcher's (防控办) to read, filtered by unit, user, kind and
    day; every other role is refused."""
    if not audit_log_readable_by(request.user):
        raise PermissionDenied
    form = AuditFilter(request.GET, kinds=audit_kinds())
    if not form.is_valid():
        return render(request, "web/registry/audit_log.html", {"form": form}, status=400)
    page = form.cleaned_data["page"] or 1
    rows = audit_trail(
        request.user,
        TrailFilters(**form.filters()),
        limit=AUDIT_PAGE_SIZE + 1,
        offset=(page - 1) * AUDIT_PAGE_SIZE,
    )
    return render(
        request,
        "web/registry/audit_log.html",
        {
            "form": form,
            "rows": rows[:AUDIT_PAGE_SIZE],
            "page": page,
            "has_next": len(rows) > AUDIT_PAGE_SIZE,
        },
    )
