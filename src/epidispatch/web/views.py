from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from epidispatch.meetings.selectors import start_work
from epidispatch.orgunits.models import UnitKind
from epidispatch.orgunits.selectors import scope_roots
from epidispatch.vaccination.permissions import records_doses_at
from epidispatch.vaccination.selectors import doses_given_at

from .forms import SiteDayForm
from .selectors import health_report, start_tasks, unit_overview


@login_required
def home(request):
    return render(
        request,
        "web/home.html",
        {
            "roots": scope_roots(request.user),
            "tasks": start_tasks(request.user),
            "meeting_work": start_work(request.user),
        },
    )


@login_required
def unit_index(request):
    roots = scope_roots(request.user)
    if len(roots) == 1:
        return redirect("unit_detail", code=roots[0].code)
    return render(request, "web/home.html", {"roots": roots})


#: Doses listed on a site's page (today's register); the count covers them all.
SITE_DOSES_SHOWN = 100


@login_required
def unit_detail(request, code: str):
    """A unit's overview; a site's shows its register of a day (today unless `day` says),
    from which its staff correct or delete a dose recorded in error."""
    overview = unit_overview(request.user, code)
    context = {"overview": overview}
    status = 200
    if overview.unit.kind == UnitKind.SITE:
        day_form = SiteDayForm(request.GET)
        valid = day_form.is_valid()
        status = 200 if valid else 400
        today = timezone.localdate()
        day = (day_form.cleaned_data.get("day") if valid else None) or today
        doses = doses_given_at(request.user, overview.unit, day)
        context.update(
            day_form=day_form,
            day=day,
            is_today=day == today,
            records_doses=records_doses_at(request.user, overview.unit),
            doses_today=doses.count(),
            doses=list(doses[:SITE_DOSES_SHOWN]),
        )
    return render(request, "web/unit_detail.html", context, status=status)


@require_GET
def health(request):
    """For the monitoring and the load balancer: 200 when the database, the task queue and
    the data key are all right, 503 naming what is not. No login, nothing personal."""
    report = health_report()
    healthy = all(value == "ok" for value in report.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **report}, status=200 if healthy else 503
    )
