"""Screening pages: the rounds, the phone collection page, the chain of a round's tubes,
the round dashboard, the grid workers' 未检 and retest lists, and the key groups tested
on a schedule (重点人群定期检测) with their due and overdue members.

Adapters only: reads through the scoped selectors, writes through the services. A round
or unit outside the user's scope is a 404; a user who may see a round but not act on it
gets 403.
"""

import io
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from epidispatch.core.bounds import EARLIEST_DAY, LATEST_DAY
from epidispatch.core.exports import write_xlsx
from epidispatch.registry.selectors import resident_for_user

from .forms import (
    CollectForm,
    GroupForm,
    MemberForm,
    MissedForm,
    ReceiveForm,
    ResultForm,
    RoundForm,
    SendForm,
)
from .models import MissedReason, TubeStatus
from .permissions import collects_for, keeps_group, runs_rounds
from .rules import ROUND_KINDS
from .selectors import (
    MemberState,
    chain_summary,
    coverage_by_child,
    group_for_user,
    group_member_for_user,
    group_member_rows,
    groups_figures,
    not_sampled_list,
    retest_list,
    round_area,
    round_coverage,
    round_for_user,
    rounds_visible_to,
    tube_in_round,
    tube_scanned,
    tubes_of,
    units_for_new_groups,
    units_for_new_rounds,
)
from .services import (
    group_create,
    group_member_add,
    group_member_remove,
    missed_record,
    round_create,
    sample_collect,
    tube_result_record,
    tubes_receive,
    tubes_send,
)

PAGE_SIZE = 50
#: The kinds of unit a round is run over.


def _page(request, items, param: str = "page"):
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get(param))


def _form_errors(form, error: ValidationError) -> None:
    form.add_error(None, error)


@login_required
def home(request):
    """The rounds the user can see; officers open new ones here."""
    units = list(units_for_new_rounds(request.user, ROUND_KINDS)[:500])
    form = RoundForm(request.POST or None, units=units) if units else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            unit = next(u for u in units if u.code == data["unit"])
            try:
                created = round_create(
                    unit=unit,
                    name=data["name"],
                    day=data["day"],
                    pool_size=data["pool_size"],
                    by=request.user,
                )
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Round opened: %(target)d people to sample.")
                    % {"target": created.target_size},
                )
                return redirect("screening:round", pk=created.pk)
    return render(
        request,
        "screening/home.html",
        {
            "page": _page(request, rounds_visible_to(request.user)),
            "form": form,
            "groups": [g for g in groups_figures(request.user, timezone.localdate()) if g.members],
        },
    )


@login_required
def round_dashboard(request, pk: int):
    """The round's figures for the user's area, the chain's progress and the sub-units."""
    screening_round = round_for_user(request.user, pk)
    area = round_area(request.user, screening_round, request.GET.get("unit"))
    children = coverage_by_child(request.user, screening_round, area)
    chain = chain_summary(screening_round)
    return render(
        request,
        "screening/round.html",
        {
            "round": screening_round,
            "area": area,
            "figures": round_coverage(screening_round, area),
            "children": children,
            "chain": chain,
            "officer": runs_rounds(request.user, screening_round.unit),
            "collector": collects_for(request.user, screening_round),
            "chart_data": {
                "chain": [
                    [str(_("Collected")), chain["tubes"]],
                    [str(_("Sent")), chain["sent"]],
                    [str(_("Received")), chain["received"]],
                    [str(_("Reported")), chain["reported"]],
                ],
                "children": [[c.name, c.sampled, c.not_sampled] for c in children],
                "labels": {"sampled": str(_("Sampled")), "not_sampled": str(_("Not sampled"))},
            },
            "now": timezone.now(),
        },
    )


def _collect_draft_key(user, screening_round) -> str:
    return f"epidispatch:screening:{user.pk}:{screening_round.pk}"


@login_required
def collect(request, pk: int):
    """采样 on a phone: scan the tube, then each person; the tube closes when full."""
    screening_round = round_for_user(request.user, pk)
    if not collects_for(request.user, screening_round):
        raise PermissionDenied
    initial = {"capacity": screening_round.pool_size, "barcode": request.GET.get("tube", "")}
    form = CollectForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            sample = sample_collect(
                screening_round=screening_round,
                barcode=data["barcode"],
                id_number=data["id_number"],
                name=data["name"],
                capacity=data["capacity"],
                by=request.user,
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            tube = sample.tube
            messages.success(
                request,
                _("%(name)s added to tube %(barcode)s (%(members)d of %(capacity)d).")
                % {
                    "name": sample.name,
                    "barcode": tube.barcode,
                    "members": tube.members,
                    "capacity": tube.capacity,
                },
            )
            url = reverse("screening:collect", args=[screening_round.pk])
            if tube.closed_at:
                messages.info(
                    request,
                    _("Tube %(barcode)s is full and closed: scan a new tube.")
                    % {"barcode": tube.barcode},
                )
                return redirect(f"{url}?saved=1")
            return redirect(f"{url}?tube={tube.barcode}&saved=1")
    tube = tube_scanned(screening_round, str(form["barcode"].value() or ""))
    return render(
        request,
        "screening/collect.html",
        {
            "round": screening_round,
            "form": form,
            "tube": tube,
            "members": list(tube.samples.order_by("id")) if tube else [],
            "draft_key": _collect_draft_key(request.user, screening_round),
            "saved": request.GET.get("saved") == "1",
        },
    )


@login_required
def tubes(request, pk: int):
    """The chain of the round's tubes (采 → 送 → 检 → 报) and the officers' forms."""
    screening_round = round_for_user(request.user, pk)
    officer = runs_rounds(request.user, screening_round.unit)
    if not officer:
        raise PermissionDenied
    forms = {
        "send": SendForm(prefix="send"),
        "receive": ReceiveForm(prefix="receive"),
        "result": ResultForm(prefix="result"),
    }
    action = request.POST.get("action")
    if request.method == "POST" and action in forms:
        form = forms[action] = type(forms[action])(request.POST, prefix=action)
        if form.is_valid():
            try:
                done = _chain_step(request.user, screening_round, action, form.cleaned_data)
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, done)
                return redirect("screening:tubes", pk=screening_round.pk)
    status = request.GET.get("status", "")
    late = request.GET.get("late") == "1"
    return render(
        request,
        "screening/tubes.html",
        {
            "round": screening_round,
            "chain": chain_summary(screening_round),
            "page": _page(request, tubes_of(screening_round, status=status, late=late)),
            "status": status,
            "late": late,
            "statuses": TubeStatus,
            "forms": forms,
            "now": timezone.now(),
        },
    )


def _chain_step(user, screening_round, action: str, data) -> str:
    if action == "send":
        count = tubes_send(
            screening_round=screening_round,
            barcodes=data["barcodes"],
            courier=data["courier"],
            box=data["box"],
            by=user,
        )
        return _("%(count)d tubes handed to %(courier)s.") % {
            "count": count,
            "courier": data["courier"],
        }
    if action == "receive":
        count = tubes_receive(screening_round=screening_round, barcodes=data["barcodes"], by=user)
        return _("%(count)d tubes received by the lab.") % {"count": count}
    try:
        tube = tube_in_round(screening_round, data["barcode"])
    except Http404 as error:
        raise ValidationError(str(error)) from None
    tube_result_record(
        tube=tube, result=data["result"], tested_at=data["tested_at"], lab=data["lab"], by=user
    )
    return _("Result of tube %(barcode)s saved.") % {"barcode": tube.barcode}


@login_required
def not_sampled(request, pk: int, code: str):
    """未检人员 of a unit: who still has to be sampled, and why not, for the grid worker."""
    screening_round = round_for_user(request.user, pk)
    area = round_area(request.user, screening_round, code)
    if request.GET.get("format") == "xlsx":
        return _not_sampled_xlsx(request.user, screening_round, area)
    form = MissedForm(request.POST or None)
    if request.method == "POST":
        resident = resident_for_user(request.user, int(request.POST.get("resident", 0) or 0))
        if form.is_valid():
            try:
                missed_record(
                    screening_round=screening_round,
                    resident=resident,
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data["note"],
                    by=request.user,
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("Saved for %(name)s.") % {"name": resident.name})
            return redirect("screening:not_sampled", pk=screening_round.pk, code=area.code)
    return render(
        request,
        "screening/not_sampled.html",
        {
            "round": screening_round,
            "area": area,
            "page": _page(request, not_sampled_list(request.user, screening_round, area)),
            "form": MissedForm(),
            "collector": collects_for(request.user, screening_round),
        },
    )


def _not_sampled_xlsx(user, screening_round, area) -> FileResponse:
    """The 未检 list as .xlsx for a town's or grid's office (masked ID numbers)."""
    reasons = dict(MissedReason.choices)
    buffer = io.BytesIO()
    write_xlsx(
        buffer,
        [_("Name"), _("ID number"), _("Grid"), _("Why not sampled"), _("Note")],
        (
            (
                t.resident.name,
                t.resident.id_number_masked,
                t.resident.grid.name,
                str(reasons.get(t.reason, "")),
                t.reason_note or "",
            )
            for t in not_sampled_list(user, screening_round, area).iterator(chunk_size=2000)
        ),
        sheet_title=str(_("Not sampled")),
    )
    buffer.seek(0)
    return FileResponse(
        buffer, as_attachment=True, filename=f"未检人员-{area.code}-{screening_round.day}.xlsx"
    )


@login_required
def retests(request, pk: int, code: str):
    """复核: members of positive pools under a unit, each a task until a single-tube
    result closes it; and the people whose retest was positive."""
    screening_round = round_for_user(request.user, pk)
    area = round_area(request.user, screening_round, code)
    return render(
        request,
        "screening/retests.html",
        {
            "round": screening_round,
            "area": area,
            "page": _page(request, retest_list(request.user, screening_round, area)),
            "positive": list(
                retest_list(request.user, screening_round, area, pending=False)[:PAGE_SIZE]
            ),
        },
    )


@login_required
def groups(request):
    """重点人群定期检测: the key groups the user sees with today's due and overdue members;
    officers open new groups here."""
    units = list(units_for_new_groups(request.user)[:500])
    form = GroupForm(request.POST or None, units=units) if units else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                group = group_create(
                    unit=next(u for u in units if u.code == data["unit"]),
                    name=data["name"],
                    kind=data["kind"],
                    every_days=data["every_days"],
                    by=request.user,
                )
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, _("Group %(name)s opened.") % {"name": group.name})
                return redirect("screening:group", pk=group.pk)
    return render(
        request,
        "screening/groups.html",
        {"groups": groups_figures(request.user, timezone.localdate()), "form": form},
    )


@login_required
def group_detail(request, pk: int):
    """A key group's members on a phone: who is overdue, due today, awaiting a result or
    tested in time; the group's keepers add and remove members here."""
    group = group_for_user(request.user, pk)
    keeper = keeps_group(request.user, group)
    form = MemberForm(request.POST or None) if keeper else None
    if request.method == "POST":
        if not keeper:
            raise PermissionDenied
        if request.POST.get("action") == "remove":
            _member_remove(request, group)
            return redirect("screening:group", pk=group.pk)
        if form.is_valid():
            try:
                member = group_member_add(
                    group=group,
                    id_number=form.cleaned_data["id_number"],
                    employer=form.cleaned_data["employer"],
                    by=request.user,
                )
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(
                    request, _("%(name)s added to the group.") % {"name": member.resident.name}
                )
                return redirect("screening:group", pk=group.pk)
    state = request.GET.get("state", "")
    state = state if state in MemberState.values else ""
    day = _day(request.GET.get("day", ""))
    rows = group_member_rows(request.user, group, day)
    counts = {value: 0 for value in MemberState.values}
    for row in rows:
        counts[row.state] += 1
    shown = [row for row in rows if row.state == state] if state else rows
    return render(
        request,
        "screening/group.html",
        {
            "group": group,
            "day": day,
            "page": _page(request, shown),
            "state": state,
            "states": [(value, label, counts[value]) for value, label in MemberState.choices],
            "total": len(rows),
            "form": form,
            "keeper": keeper,
        },
    )


def _day(text: str) -> date:
    """The day a list is asked for (?day=2022-04-04), today when absent or not a day."""
    try:
        day = date.fromisoformat(text[:10])
    except ValueError:
        return timezone.localdate()
    return day if EARLIEST_DAY <= day <= LATEST_DAY else timezone.localdate()


def _member_remove(request, group) -> None:
    member_id = request.POST.get("member", "")
    valid = member_id.isascii() and member_id.isdigit() and len(member_id) < 12
    try:  # no record has id 0
        member = group_member_for_user(request.user, group, int(member_id) if valid else 0)
    except Http404 as error:
        messages.error(request, str(error))
        return
    try:
        group_member_remove(member=member, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("%(name)s taken off the group.") % {"name": member.resident.name}
        )
