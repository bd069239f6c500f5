"""The JSON API (/api/v1/, OpenAPI at /api/docs): the same scoped selectors as the pages.

Scripts authenticate with `Authorization: Bearer <token>` (epidispatch create_api_token);
a logged-in browser session works too, for read-only calls.
"""

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI, Query, Schema
from ninja.renderers import JSONRenderer
from ninja.security import HttpBearer, django_auth

from epidispatch.accounts.services import api_token_user
from epidispatch.orgunits.models import OrgUnit, UnitKind
from epidispatch.orgunits.selectors import unit_for_user, units_below, units_visible_to
from epidispatch.vaccination.selectors import unit_coverage
from epidispatch.web.selectors import unit_overview


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = api_token_user(token)
        if user is not None:
            request.user = user
        return user


class ChineseJSONRenderer(JSONRenderer):
    """UTF-8 JSON: names stay readable (通渭县, not \\u901a\\u6e2d\\u53bf)."""

    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    title="epidispatch API",
    version="1",
    description=str(_("Epidemic control and vaccination dispatch")),
    auth=[BearerToken(), django_auth],
    urls_namespace="api-v1",
    renderer=ChineseJSONRenderer(),
)


class UnitOut(Schema):
    code: str
    name: str
    kind: UnitKind
    parent: str | None

    @staticmethod
    def resolve_parent(unit: OrgUnit) -> str | None:
        return unit.parent.code if unit.parent_id else None


class ChildOut(Schema):
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
    children: list[ChildOut]


class UnitFilters(Schema):
    under: str | None = None
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


class CoverageOut(Schema):
    residents: int
    adults: int
    first_dose: int
    series_complete: int
    booster: int
    to_clear: int
    overdue_second: int


@api.get("/units/{code}/coverage", response=CoverageOut, tags=["vaccination"])
def get_unit_coverage(request, code: str, as_of: date | None = None):
    """The unit's figures on `as_of` (default today), as `epidispatch coverage` prints them:
    only doses given on or before that day count; adults are 18 or older on it."""
    unit = unit_for_user(request.user, code)
    return unit_coverage(unit, as_of or timezone.localdate())


api.add_router("/field/", "epidispatch.fieldwork.api.router")
api.add_router("/dispatch/", "epidispatch.dispatch.api.router")
api.add_router("/imports/", "epidispatch.imports.api.router")
api.add_router("/certificates/", "epidispatch.certificates.api.router")
api.add_router("/supply/", "epidispatch.supply.api.router")
api.add_router("/sites/", "epidispatch.sites.api.router")
