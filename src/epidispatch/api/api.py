"""The JSON API (/api/v1/, OpenAPI at /api/docs): the same scoped selectors as the pages.

Scripts authenticate with `Authorization: Bearer <token>` (epidispatch create_api_token);
a logged-in browser session works too, for read-only calls.
"""

from django.http import Http404
from django.http.request import RawPostDataException
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI, Query, Schema
from ninja.errors import AuthenticationError
from ninja.renderers import JSONRenderer
from ninja.security import HttpBearer, django_auth

from epidispatch.accounts.services import api_token_user
from epidispatch.audit.services import attribute_changes_to
from epidispatch.core.bounds import Day, UnitCode
from epidispatch.orgunits.models import OrgUnit, UnitKind
from epidispatch.orgunits.selectors import unit_for_user, units_below, units_visible_to
from epidispatch.vaccination.selectors import unit_coverage
from epidispatch.web.selectors import unit_overview


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = api_token_user(token)
        if user is not None:
            request.user = user
            attribute_changes_to(user)
        return user


class ChineseJSONRenderer(JSONRenderer):
    """UTF-8 JSON: names stay readable (通渭县, not \\u901a\\u6e2d\\u53bf)."""

    json_dumps_params = {"ensure_ascii": False}


#: The answers any operation may give besides its own: the body is `{"detail": …}`, a
#: message (a list of field errors for 422).
ERROR_RESPONSES = {
    "400": "Bad request: a NUL character or a malformed body",
    "401": "No valid token or session",
    "403": "Your role may not do this",
    "404": "Outside your units, or does not exist",
    "422": "Invalid input: the fields and why",
}
ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "properties": {"detail": {"anyOf": [{"type": "string"}, {"type": "array"}]}},
    "required": ["detail"],
}


class DocumentedAPI(NinjaAPI):
    """The API whose OpenAPI spec names every status an operation can answer, so that a
    client (and schemathesis in the test suite) can rely on it."""

    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        for operations in schema["paths"].values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, description in ERROR_RESPONSES.items():
                    if status not in responses and int(status) not in responses:
                        responses[status] = {"description": description, "content": error}
        return schema


api = DocumentedAPI(
    title="epidispatch API",
    version="1",
    description=str(_("Epidemic control and vaccination dispatch")),
    auth=[BearerToken(), django_auth],
    urls_namespace="api-v1",
    renderer=ChineseJSONRenderer(),
)


@api.exception_handler(RawPostDataException)
def form_sent_for_json(request, error):
    """A form or multipart body sent to an operation that reads JSON: the NUL check
    (`web.middleware.RejectNulMiddleware`) has already parsed it as a form, so it cannot
    be read again as JSON. The client is told what to send instead of a server error."""
    return api.create_response(
        request, {"detail": str(_("This operation takes a JSON body."))}, status=400
    )


#: What ninja would answer in English, as the API's pages do in Chinese.
NOT_FOUND = _("Does not exist, or lies outside the units you are responsible for.")
UNAUTHORIZED = _("A valid API token or a login is needed.")


@api.exception_handler(Http404)
def not_found(request, error):
    """404 from an operation (outside the caller's units, or no such record)."""
    return api.create_response(request, {"detail": str(NOT_FOUND)}, status=404)


@api.exception_handler(AuthenticationError)
def unauthorized(request, error):
    return api.create_response(request, {"detail": str(UNAUTHORIZED)}, status=error.status_code)


class UnitOut(Schema):
    code: str
    name: str
    kind: UnitKind
    parent: str | None

    @staticmethod
    def resolve_parent(unit: OrgUnit) -> str | None:
        return unit.parent.code if unit.parent_id else None


class SubunitOut(Schema):
    code: str
    name: str
    kind: UnitKind
    subunits: int
    grids: int
    residents: int


class UnitDetailOut(Schema):
    code: str
    name: str
    kind: UnitKind
    parent: str | None
    residents: int
    grids: int
    children: list[SubunitOut]


class UnitFilters(Schema):
    under: UnitCode | None = None
    kind: UnitKind | None = None


@api.get("/units", response=list[UnitOut], tags=["org units"])
def list_units(request, filters: Query[UnitFilters]):
    """Units within the caller's scope in tree order; `under` keeps those below a unit."""
    units = units_visible_to(request.user, kind=filters.kind).select_related("parent")
    if filters.under:
        units = units_below(units, unit_for_user(request.user, filters.under))
    return units


@api.get("/units/{code}", response=UnitDetailOut, tags=["org units"])
def get_unit(request, code: str):
    """One unit with its residents, grids and direct sub-units (404 outside your scope)."""
    overview = unit_overview(request.user, code)
    unit = overview.unit
    return {
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "parent": unit.parent.code if unit.parent_id else None,
        "residents": overview.residents,
        "grids": overview.grids,
        "children": [
            {
                "code": row.unit.code,
                "name": row.unit.name,
                "kind": row.unit.kind,
                "subunits": row.subunits,
                "grids": row.grids,
                "residents": row.residents,
            }
            for row in overview.children
        ],
    }


class UnitCoverageOut(Schema):
    residents: int
    adults: int
    first_dose: int
    series_complete: int
    booster: int
    to_clear: int
    overdue_second: int


@api.get("/units/{code}/coverage", response=UnitCoverageOut, tags=["vaccination"])
def get_unit_coverage(request, code: str, as_of: Day | None = None):
    """The unit's figures on `as_of` (default today), as `epidispatch coverage` prints them:
    only doses given on or before that day count; adults are 18 or older on it."""
    unit = unit_for_user(request.user, code)
    return unit_coverage(unit, as_of or timezone.localdate())


api.add_router("/field/", "epidispatch.fieldwork.api.router")
api.add_router("/dispatch/", "epidispatch.dispatch.api.router")
api.add_router("/control/", "epidispatch.control.api.router")
api.add_router("/inspection/", "epidispatch.inspection.api.router")
api.add_router("/meetings/", "epidispatch.meetings.api.router")
api.add_router("/imports/", "epidispatch.imports.api.router")
api.add_router("/certificates/", "epidispatch.certificates.api.router")
api.add_router("/supply/", "epidispatch.supply.api.router")
api.add_router("/screening/", "epidispatch.screening.api.router")
api.add_router("/", "epidispatch.interop.api.router")
api.add_router("/sites/", "epidispatch.sites.api.router")
api.add_router("/registry/", "epidispatch.registry.api.router")
api.add_router("/vaccination/", "epidispatch.vaccination.api.router")
api.add_router("/accountability/", "epidispatch.accountability.api.router")
