from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from epidispatch.orgunits.selectors import scope_roots

from .selectors import health_report, unit_overview


@login_required
def home(request):
    return render(request, "web/home.html", {"roots": scope_roots(request.user)})


@login_required
def unit_index(request):
    roots = scope_roots(request.user)
    if len(roots) == 1:
        return redirect("unit_detail", code=roots[0].code)
    return render(request, "web/home.html", {"roots": roots})


@login_required
def unit_detail(request, code: str):
    return render(request, "web/unit_detail.html", {"overview": unit_overview(request.user, code)})


@require_GET
def health(request):
    """For the monitoring and the load balancer: 200 when the database, the task queue and
    the data key are all right, 503 naming what is not. No login, nothing personal."""
    report = health_report()
    healthy = all(value == "ok" for value in report.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **report}, status=200 if healthy else 503
    )
