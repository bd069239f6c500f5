"""The platform's URLs plus the baseline of bench/visits.py, which exists only here.

The baseline is what the issue compares against: a bare Django view that inserts a
visit-like row with Model.objects.create — no authentication, no scope, no lock, no status
change, no figures — behind the same middleware, server and database.
"""

import uuid

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from epidispatch.fieldwork.models import Visit
from epidispatch.urls import urlpatterns as platform_urlpatterns


@csrf_exempt
def bare_visit(request):
    visit = Visit.objects.create(
        resident_id=int(request.POST["resident"]),
        grid_id=int(request.POST["grid"]),
        county_code="621121",
        worker_id=int(request.POST["worker"]),
        outcome=request.POST["outcome"],
        submission_id=uuid.UUID(request.POST["submission_id"]),
    )
    return JsonResponse({"id": visit.pk}, status=201)


urlpatterns = [path("bench/bare-visit", bare_visit), *platform_urlpatterns]
