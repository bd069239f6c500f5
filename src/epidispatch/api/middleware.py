"""The answers given under /api/v1/ before any operation runs, in the API's own shape."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .api import api

UNKNOWN_PATH = _("No API operation has this path; the list is at /api/v1/docs.")
METHOD_NOT_ALLOWED = _("This operation does not take %(method)s; it takes %(allowed)s.")


class ApiFrameworkErrorsMiddleware:
    """A path no operation has is answered by Django (its 404 page) and a method that an
    operation does not take by ninja (405, plain English text), both before the API's
    exception handlers can see them. A script reads every API answer as JSON, so under
    the API's root these two become `{"detail": …}` with a Chinese message; 405 keeps its
    `Allow` header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code not in (404, 405) or response.get("Content-Type", "").startswith(
            "application/json"
        ):
            return response
        if not request.path.startswith(reverse(f"{api.urls_namespace}:api-root")):
            return response
        if response.status_code == 404:
            return api.create_response(request, {"detail": str(UNKNOWN_PATH)}, status=404)
        allowed = response["Allow"]
        message = METHOD_NOT_ALLOWED % {"method": request.method, "allowed": allowed}
        answer = api.create_response(request, {"detail": message}, status=405)
        answer["Allow"] = allowed
        return answer
