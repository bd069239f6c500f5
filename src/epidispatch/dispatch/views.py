"""Pages of the daily dispatch (日调度): the dashboard with its drill-down, the rankings of a
snapshot with the accountability candidates (约谈), the next-day targets (任务清单) and the
dispatcher's cutoff button.

Adapters only: reads through `selectors` (scoped to the user), writes through `services`.
What is added here is presentation: figures formatted the way a Chinese report writes
them (78.0%, 12,345) and the data the charts read. A unit outside the user's scope is a
404, as everywhere.
"""

from collections import Counter
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from epidispatch.accountability.models import CaseState
from epidispatch.accountability.services import accountability_decide
from epidispatch.control.selectors import area_summary
from epidispatch.core.scoping import path_in_scope
from epidispatch.orgunits.models import OrgUnit, UnitKind
from epidispatch.orgunits.selectors import scope_roots, unit_for_user

from . import selectors
from .bulletin.content import percent as exact_percent
from .bulletin.content import percent_text
from .forms import CandidateDecisionForm, DayForm, TargetsForm
from .models import DailyTarget, RankingGroup, RankingMeasure
from .permissions import dispatches, freezes_figures
from .services import snapshot_take, target_issue

#: How many past snapshots the rankings page offers to jump to.
RECENT_SNAPSHOTS = 30


# Formatting for Chinese readers: one decimal on percentages, thousands grouped.


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _kind_label(kind: str) -> str:
    return str(UnitKind(kind).label) if kind in UnitKind.values else kind


# Dashboard (看板).


@login_required
def dashboard(request):
    """Straight to the dashboard of the user's unit; a choice when they hold several."""
    roots = sorted(scope_roots(request.user), key=lambda unit: unit.path)
    if len(roots) == 1:
        return redirect("dashboard_unit", code=roots[0].code)
    return render(request, "dispatch/choose.html", {"roots": roots})


@login_required
def dashboard_unit(request, code: str):
    data = selectors.dashboard(request.user, code)
    totals = data["totals"]
    children = [
        {
            **child,
            "kind_label": _kind_label(child["kind"]),
            "coverage_text": percent(child["coverage"]),
            "series_text": percent(child["series_rate"]),
            "seniors_text": percent(child["seniors_coverage"]),
        }
        for child in data["children"]
    ]
    return render(
        request,
        "dispatch/dashboard.html",
        {
            "data": data,
            "unit": data["unit"],
            "kind_label": _kind_label(data["unit"]["kind"]),
            "cards": _cards(totals, data["last_cutoff"]),
            "coverage_rate": totals["coverage"] or 0,
            "children": children,
            "has_children": bool(children),
            "has_departments": any(child["kind"] == UnitKind.DEPARTMENT for child in children),
            "chart_labels": _dashboard_chart_labels(),
            "as_of": timezone.localtime(),
            "last_cutoff": _cutoff_time(data["last_cutoff"]),
            "control_areas": {
                "summary": area_summary(
                    request.user, unit_for_user(request.user, code), timezone.localdate()
                ),
                "link": True,
            },
        },
    )


def _cutoff_time(snapshot: dict | None):
    if snapshot is None:
        return None
    return datetime.fromisoformat(snapshot["taken_at"])


def _cards(totals: dict, last_cutoff: dict | None) -> list[dict]:
    """The headline figures, the most read first; `tone` marks what needs attention."""
    since = _("since the cutoff of %(day)s") % {"day": last_cutoff["day"]} if last_cutoff else ""
    return [
        {
            "key": "coverage",
            "label": _("Coverage (at least one dose)"),
            "value": percent(totals["coverage"]),
            "note": _("%(covered)s of %(target)s people")
            % {"covered": count(totals["covered"]), "target": count(totals["target"])},
            "tone": "lead",
        },
        {
            "key": "series_rate",
            "label": _("Series completion rate"),
            "value": percent(totals["series_rate"]),
            "note": _("%(people)s people") % {"people": count(totals["series_complete"])},
        },
        {
            "key": "booster",
            "label": _("Booster"),
            "value": count(totals["booster"]),
            "note": _("%(rate)s of the target population")
            % {"rate": percent(totals["booster_rate"])},
        },
        {
            "key": "seniors_coverage",
            "label": _("Coverage aged 60 and over"),
            "value": percent(totals["seniors_coverage"]),
            "note": _("%(covered)s of %(target)s people")
            % {
                "covered": count(totals["seniors_covered"]),
                "target": count(totals["seniors_target"]),
            },
        },
        {
            "key": "to_clear",
            "label": _("Remaining to clear"),
            "value": count(totals["to_clear"]),
            "note": _("of whom %(adults)s aged 18 and over")
            % {"adults": count(totals["adults_to_clear"])},
            "tone": "alert" if totals["to_clear"] else "",
        },
        {
            "key": "doses_since_cutoff",
            "label": _("Doses since the last cutoff"),
            "value": count(totals["doses_since_cutoff"]),
            "note": since,
        },
        {
            "key": "doses",
            "label": _("Doses given"),
            "value": count(totals["doses"]),
            "note": _("all doses, cumulative"),
        },
        {
            "key": "residents",
            "label": _("Residents"),
            "value": count(totals["residents"]),
            "note": _("registered permanent residents"),
        },
        {
            "key": "target",
            "label": _("Target population"),
            "value": count(totals["target"]),
            "note": _("aged 3 and over"),
        },
    ]


def _dashboard_chart_labels() -> dict:
    return {
        "coverage": _("Coverage"),
        "series": _("Series completion rate"),
        "booster": _("Booster rate"),
        "doses": pgettext("dose count", "Doses"),
        "today": _("Today (live)"),
        "toClear": _("Remaining to clear"),
    }


# Rankings (排名) and accountability candidates (约谈).


@login_required
def rankings(request):
    """The rankings of the latest snapshot."""
    county = selectors.ranking_county(request.user, request.GET.get("county"))
    snapshot = selectors.snapshots_visible_to(request.user).select_related("bulletin").first()
    return _rankings_page(request, county, snapshot)


@login_required
def snapshot_detail(request, day: str):
    try:
        frozen_on = date.fromisoformat(day)
    except ValueError:
        raise Http404 from None
    county = selectors.ranking_county(request.user, request.GET.get("county"))
    snapshot = get_object_or_404(
        selectors.snapshots_visible_to(request.user).select_related("bulletin"), day=frozen_on
    )
    return _rankings_page(request, county, snapshot)


def _rankings_page(request, county: OrgUnit, snapshot):
    user = request.user
    whole_county = path_in_scope(user, county.path)
    keyed = selectors.rankings_of(user, snapshot, county) if snapshot else {}
    groups = []
    for group in RankingGroup:
        measures = []
        for measure in RankingMeasure:
            rows = keyed.get(f"{group}:{measure}", [])
            ties = Counter(row.place for row in rows)
            measures.append(
                {
                    "measure": measure,
                    "label": measure.label,
                    "chart_id": f"chart-ranking-{group}-{measure}",
                    "fraction_label": _("Doses / target")
                    if measure == RankingMeasure.TARGET
                    else _("Covered / target population"),
                    "rows": [
                        {
                            "ranking": row,
                            "tied": ties[row.place] > 1,
                            "rate_text": percent_text(
                                exact_percent(row.numerator, row.denominator)
                            ),
                        }
                        for row in rows
                    ],
                }
            )
        groups.append({"group": group, "label": group.label, "measures": measures})
    recent = list(
        selectors.snapshots_visible_to(user).values_list("day", flat=True)[:RECENT_SNAPSHOTS]
    )
    earlier = later = None
    if snapshot and snapshot.day in recent:
        position = recent.index(snapshot.day)
        earlier = recent[position + 1] if position + 1 < len(recent) else None
        later = recent[position - 1] if position else None
    candidates = []
    if snapshot:
        candidates = list(
            selectors.candidates_visible_to(user)
            .filter(unit__county_code=county.county_code)
            .filter(Q(state=CaseState.PROPOSED) | Q(ranking__snapshot=snapshot))
            .order_by("-cutoff_day", "unit__code", "measure")
        )
        for candidate in candidates:
            candidate.measure_label = RankingMeasure(candidate.measure).label
    return render(
        request,
        "dispatch/rankings.html",
        {
            "county": county,
            "snapshot": snapshot,
            "bulletin": getattr(snapshot, "bulletin", None) if snapshot else None,
            "whole_county": whole_county,
            "groups": groups,
            "has_places": any(m["rows"] for g in groups for m in g["measures"]),
            "recent": recent,
            "earlier": earlier,
            "later": later,
            "bottom_n": settings.EPIDISPATCH_BOTTOM_N,
            "candidates": [c for c in candidates if c.snapshot_id == snapshot.pk],
            "earlier_candidates": [c for c in candidates if c.snapshot_id != snapshot.pk],
            "can_dispatch": dispatches(user, county),
            "can_freeze": freezes_figures(user),
            "frozen_today": _frozen_today(),
            "decision_form": CandidateDecisionForm(),
            "ranking_data": [
                {"id": measure["chart_id"], "units": _ranking_chart(measure["rows"])}
                for group in groups
                for measure in group["measures"]
                if whole_county and measure["rows"]
            ],
            "chart_labels": {
                "coverage": str(RankingMeasure.COVERAGE.label),
                "target": str(RankingMeasure.TARGET.label),
            },
        },
    )


def _frozen_today():
    """Today's snapshot, when the cutoff has been taken: the page then says so instead of
    offering a button that can only be refused."""
    latest = selectors.latest_snapshot()
    return latest if latest and latest.day == timezone.localdate() else None


def _ranking_chart(rows: list[dict]) -> list[dict]:
    """One bar per unit in the order of its place; the bottom N drawn in red."""
    return [
        {
            "code": row["ranking"].unit.code,
            "name": row["ranking"].unit_name,
            "rate": row["ranking"].rate,
            "bottom": row["ranking"].bottom,
        }
        for row in rows
    ]


@login_required
@require_POST
def candidate_decision(request, pk: int):
    """The dispatcher confirms a summons (约谈) proposed by a ranking streak or dismisses it;
    the accountability service refuses anyone else (403) and a second decision (shown as
    an error)."""
    candidate = get_object_or_404(selectors.candidates_visible_to(request.user), pk=pk)
    form = CandidateDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to confirm or dismiss."))
    else:
        try:
            accountability_decide(
                case=candidate,
                confirm=form.confirms,
                by=request.user,
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            message = (
                _("Summons of %(unit)s confirmed.")
                if form.confirms
                else _("Candidate %(unit)s dismissed.")
            )
            messages.success(request, message % {"unit": candidate.unit.name})
    return redirect("snapshot_detail", day=candidate.cutoff_day.isoformat())


@login_required
@require_POST
def cutoff(request):
    """Freeze the figures now (日调度 cutoff), for the dispatcher; once a day."""
    try:
        snapshot = snapshot_take(by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("rankings")
    messages.success(
        request,
        _("The figures are frozen at %(time)s; the rankings below are today's.")
        % {"time": f"{timezone.localtime(snapshot.taken_at):%H:%M}"},
    )
    return redirect("snapshot_detail", day=snapshot.day.isoformat())


# Daily targets (任务清单).


@login_required
def targets(request):
    """The dispatcher issues the day's quota of every town and department in one form;
    towns and departments see theirs with the doses given since the last cutoff."""
    user = request.user
    county = selectors.ranking_county(user)
    can_issue = dispatches(user, county)
    today = timezone.localdate()
    default_day = today + timedelta(days=1) if can_issue else today
    picker = DayForm(request.GET or {"day": default_day})
    day = picker.cleaned_data["day"] if picker.is_valid() else default_day
    rows = selectors.targets_for(user, day)
    units = [row["unit"] for row in rows]
    current = {row["unit"].pk: row["target"] for row in rows if row["target"]}
    initial = {pk: target.doses for pk, target in current.items()}
    editable = can_issue and day >= today
    form = TargetsForm(
        request.POST if request.method == "POST" and editable else None,
        units=units,
        initial_doses=initial,
    )
    if request.method == "POST":
        if not can_issue:
            raise PermissionDenied(_("Only the dispatcher issues daily targets."))
        if form.is_bound and form.is_valid():
            issued = _issue_targets(request, form, current, day)
            if issued is not None:
                messages.success(
                    request,
                    _("%(count)d targets issued for %(day)s.") % {"count": issued, "day": day},
                )
                return redirect(f"{request.path}?day={day.isoformat()}")
        elif not editable:
            messages.error(
                request, _("%(day)s is past; targets are for today or later.") % {"day": day}
            )
    deadline = DailyTarget.deadline_for(day)
    return render(
        request,
        "dispatch/targets.html",
        {
            "county": county,
            "day": day,
            "today": today,
            "picker": picker,
            "form": form,
            "editable": editable,
            "can_issue": can_issue,
            "deadline": deadline,
            "past_deadline": timezone.now() > deadline,
            "rows": [_target_row(row, form if editable else None) for row in rows],
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1),
        },
    )


def _target_row(row: dict, form) -> dict:
    target = row["target"]
    rate = row["added"] / target.doses if target and target.doses else None
    return {
        **row,
        "field": form.bound_field(row["unit"]) if form else None,
        "rate": rate,
        "rate_text": percent(rate),
        "bar": min(rate or 0, 1),
        "kind_label": _kind_label(row["unit"].kind),
    }


def _issue_targets(request, form: TargetsForm, current: dict, day: date) -> int | None:
    """Issue every quota that changed, all or none. An unchanged quota is not issued
    again: re-issuing it after 20:00 would flag a target given in time as late."""
    changed = [
        (unit, doses)
        for unit, doses in form.quotas()
        if unit.pk not in current or current[unit.pk].doses != doses
    ]
    try:
        with transaction.atomic():
            for unit, doses in changed:
                target_issue(unit=unit, day=day, doses=doses, by=request.user)
    except ValidationError as error:
        form.add_error(None, error)
        return None
    return len(changed)
