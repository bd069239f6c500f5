"""Supply pages: stock on hand of the stores and sites in scope (with transfer and receipt
forms), a lot's trace and recall list, and the pack scan the dose form calls.

Adapters only: reads through the scoped selectors, writes through services. A unit
outside the user's scope is a 404, as everywhere.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from epidispatch.accounts.models import Role
from epidispatch.core.scoping import holds_role_over, role_paths
from epidispatch.orgunits.models import UnitKind
from epidispatch.orgunits.selectors import scope_roots, unit_for_user
from epidispatch.vaccination.permissions import records_doses_at

from . import conf
from .forms import AEFIStepForm, ReceiveForm, TransferForm
from .permissions import investigates_aefi, reports_aefi
from .selectors import (
    aefi_lot_rates,
    aefi_report_for,
    aefi_reports_visible_to,
    allocation_suggest,
    lot_get,
    lot_sites,
    recall_list,
    site_demand,
    stock_on_hand,
)
from .services import (
    aefi_classify,
    aefi_close,
    aefi_investigation_start,
    aefi_mark_reported,
    pack_scan,
    stock_receive,
    stock_transfer,
)

RECALL_LIMIT = 500
AEFI_LIMIT = 200


@login_required
def home(request):
    """Stock on hand in the user's scope, the first to expire first within each place."""
    transfer = TransferForm(request.user, prefix="transfer")
    receive = ReceiveForm(request.user, prefix="receive")
    if request.method == "POST":
        if "transfer" in request.POST:
            transfer = TransferForm(request.user, request.POST, prefix="transfer")
            form, write = transfer, _transfer
        else:
            receive = ReceiveForm(request.user, request.POST, prefix="receive")
            form, write = receive, _receive
        if form.is_valid():
            try:
                message = write(request.user, form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            except PermissionDenied as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, message)
                return redirect("supply:home")
    return render(
        request,
        "supply/home.html",
        {
            "balances": stock_on_hand(request.user),
            "transfer": transfer,
            "receive": receive,
            "orders_transfers": bool(role_paths(request.user, (Role.SUPPLY_OFFICER,))),
            "today": timezone.localdate(),
        },
    )


def _transfer(user, data) -> str:
    stock_transfer(
        source=data["source"],
        target=data["target"],
        lot=data["lot"],
        quantity=data["quantity"],
        by=user,
        note=data["note"],
    )
    return _("%(quantity)d of lot %(lot)s sent from %(source)s to %(target)s.") % {
        "quantity": data["quantity"],
        "lot": data["lot"].number,
        "source": data["source"],
        "target": data["target"],
    }


def _receive(user, data) -> str:
    move = stock_receive(
        holder=data["holder"],
        item=data["item"],
        lot_number=data["lot_number"],
        expires_on=data["expires_on"],
        quantity=data["quantity"],
        package_codes=data["package_codes"],
        by=user,
    )
    return _("%(quantity)d of lot %(lot)s received at %(holder)s.") % {
        "quantity": move.quantity,
        "lot": move.lot.number,
        "holder": data["holder"],
    }


@login_required
def lot(request, pk: int):
    """A lot's trace: where it was given and the recall list of the people in scope."""
    item = lot_get(pk)
    people = recall_list(request.user, item)
    return render(
        request,
        "supply/lot.html",
        {
            "lot": item,
            "sites": lot_sites(request.user, item),
            "recall": people[:RECALL_LIMIT],
            "recall_count": people.count(),
            "recall_limit": RECALL_LIMIT,
        },
    )


@never_cache
@login_required
def scan(request, code: str):
    """A scanned pack, read for the dose form of a site: what it fills in, or why not."""
    site = unit_for_user(request.user, code)
    if site.kind != UnitKind.SITE:
        raise Http404
    if not records_doses_at(request.user, site):
        raise PermissionDenied
    try:
        pack = pack_scan(site=site, code=request.GET.get("code", ""), on=timezone.localdate())
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    return JsonResponse(
        {
            "product": pack.product_id,
            "product_name": pack.product,
            "lot_number": pack.lot_number,
            "expires_on": pack.expires_on.isoformat(),
            "trace_code": pack.trace_code,
            "doses_left": pack.doses_left,
        }
    )


@login_required
def demand(request):
    """Demand against stock per site (days of supply, shortages, the lot to use first) and,
    for a county's store, the suggested allocation."""
    code = request.GET.get("unit", "")[:20]
    roots = scope_roots(request.user)
    unit = unit_for_user(request.user, code) if code else (roots[0] if roots else None)
    if unit is None:
        raise Http404
    suggestion = []
    store = unit.kind in (UnitKind.COUNTY, UnitKind.CITY)
    if store and holds_role_over(request.user, (Role.SUPPLY_OFFICER,), unit.path):
        suggestion = allocation_suggest(request.user, unit)
    return render(
        request,
        "supply/demand.html",
        {
            "unit": unit,
            "rows": site_demand(request.user, unit),
            "suggestion": suggestion,
            "demand_days": conf.DEMAND_DAYS,
            "usage_days": conf.USAGE_DAYS,
        },
    )


@login_required
def aefi_list(request):
    """The CDC's page: AEFI reports in scope with their overdue flags, and the lots whose
    reports per 10,000 doses reach the alert threshold."""
    reports = aefi_reports_visible_to(request.user)
    return render(
        request,
        "supply/aefi_list.html",
        {
            "reports": reports[:AEFI_LIMIT],
            "rates": aefi_lot_rates(request.user),
            "threshold": conf.AEFI_ALERT_PER_10000,
        },
    )


@login_required
def aefi_detail(request, pk: int):
    report = aefi_report_for(request.user, pk)
    form = AEFIStepForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        step = form.cleaned_data["step"]
        try:
            if step == "reported":
                aefi_mark_reported(report=report, by=request.user)
            elif step == "investigation":
                aefi_investigation_start(report=report, by=request.user)
            elif step == "classify":
                aefi_classify(
                    report=report,
                    classification=form.cleaned_data["classification"],
                    by=request.user,
                )
            else:
                aefi_close(report=report, by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("supply:aefi_detail", pk=report.pk)
    return render(
        request,
        "supply/aefi_detail.html",
        {
            "report": report,
            "form": form,
            "may_report": reports_aefi(request.user, report),
            "may_investigate": investigates_aefi(request.user, report),
        },
    )
