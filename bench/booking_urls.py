"""The platform's URLs plus the baseline of bench/booking.py, which exists only here: a
bare view inserting an appointment row with Model.objects.create — no authentication, no
scope, no capacity check — behind the same middleware, server and database."""

import json

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from epidispatch.sites.models import Appointment
from epidispatch.urls import urlpatterns as platform_urlpatterns


@csrf_exempt
def bare_booking(request):
    data = json.loads(request.body)
    appointment = Appointment.objects.create(
        slot_id=data["slot"], site_id=data["site"], day=data["day"], resident_id=data["resident"]
    )
    return JsonResponse({"id": appointment.pk}, status=201)


urlpatterns = [path("bench/bare-booking", bare_booking), *platform_urlpatterns]
