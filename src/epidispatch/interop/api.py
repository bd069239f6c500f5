"""Interoperability over HTTP (DESIGN.md §8): HL7 v2 VXU in; FHIR R4 resources and the
dose change feed out; all within the caller's units (404 outside them)."""

from datetime import date, datetime
from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema
from ninja.errors import HttpError
from pydantic import field_validator

from epidispatch.control.models import ChangeKind
from epidispatch.control.schemas import KeyPersonCaseOut
from epidispatch.control.selectors import DEFAULT_CHANGES as DEFAULT_KEY_PERSON_CHANGES
from epidispatch.control.selectors import MAX_CHANGES as MAX_KEY_PERSON_CHANGES
from epidispatch.control.selectors import key_person_changes
from epidispatch.core import feeds
from epidispatch.orgunits.selectors import unit_for_user

from .selectors import (
    DEFAULT_CHANGES,
    MAX_CHANGES,
    dose_changes,
    immunization_for_user,
    patient_for_user,
)
from .services import unit_bundle, vxu_messages_import

router = Router(tags=["interoperability"])

HL7_MEDIA_TYPE = "x-application/hl7-v2+er7"


@router.post(
    "/hl7/vxu",
    response={200: None, 400: dict, 403: dict},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {HL7_MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
        "responses": {
            200: {
                "description": "One ACK^V04 per message (AA, AE or AR), in order",
                "content": {HL7_MEDIA_TYPE: {"schema": {"type": "string"}}},
            }
        },
    },
)
def post_vxu(request):
    """Store the doses of one or more VXU^V04 messages (MLLP framing optional) through the
    dose file's rules, within the caller's units; answers the ACK of each message."""
    try:
        text = request.body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HttpError(400, _("The body is not UTF-8 text.")) from None
    if not text.strip():
        raise HttpError(400, _("The body holds no HL7 message."))
    try:
        result = vxu_messages_import(text=text, source_name="HTTP", user=request.user)
    except PermissionDenied as error:
        raise HttpError(403, str(error)) from None
    return HttpResponse("".join(result.answers), content_type=f"{HL7_MEDIA_TYPE}; charset=utf-8")


#: The largest id a row can have (PostgreSQL bigint): a larger one is a 422, not a 500.
MAX_ID = 2**63 - 1
FHIR_MEDIA_TYPE = "application/fhir+json"


class Error(Schema):
    detail: str


class BundleQuery(Schema):
    as_of: date | None = None
    unmask: bool = False


@router.get(
    "/fhir/units/{code}/Bundle",
    response={200: dict, 403: Error, 404: Error},
    url_name="fhir_unit_bundle",
)
def get_unit_bundle(request, code: str, query: Query[BundleQuery]):
    """The unit's FHIR R4 Bundle (type collection), as `epidispatch export_fhir` writes it:
    a Patient per resident under the unit (ID number masked; `unmask=true` for a role that
    may unmask, audited) and an Immunization per dose given on or before `as_of`."""
    unit = unit_for_user(request.user, code)
    try:
        return unit_bundle(
            request.user, unit, query.as_of or timezone.localdate(), unmask=query.unmask
        )
    except PermissionDenied as error:
        raise HttpError(403, str(error)) from None


@router.get("/fhir/Patient/{resident_id}", response={200: dict, 404: Error})
def get_patient(request, resident_id: int = Path(..., ge=1, le=MAX_ID)):
    """One resident of your units as a FHIR R4 Patient (ID number masked)."""
    return patient_for_user(request.user, resident_id)


@router.get("/fhir/Immunization/{dose_id}", response={200: dict, 404: Error})
def get_immunization(request, dose_id: int = Path(..., ge=1, le=MAX_ID)):
    """One dose of a resident of your units as a FHIR R4 Immunization."""
    return immunization_for_user(request.user, dose_id)


class DoseChangeKind(StrEnum):
    RECORDED = "recorded"
    CORRECTED = "corrected"
    DELETED = "deleted"


CURSOR_DOC = (
    'Opaque: the `next_cursor` of the previous page, "0" at first (a bare id from '
    'before counts as "0.<id>")'
)


class ChangeOut(Schema):
    id: int = Field(..., description="The dose's id (a deleted dose's too)")
    kind: DoseChangeKind
    resident_id: int
    dose_number: int
    product: str = Field(..., description='"" when deleted')
    cvx_code: str
    given_on: date | None = Field(..., description="null when deleted")
    lot_number: str
    site: str
    source: str
    created_at: datetime | None = Field(..., description="null when deleted")
    changed_at: datetime = Field(..., description="recorded, corrected or deleted at")


class ChangesOut(Schema):
    items: list[ChangeOut]
    next_cursor: str = Field(..., description=CURSOR_DOC)
    has_more: bool


class ChangesQuery(Schema):
    cursor: str = Field("0", pattern=feeds.CURSOR_PATTERN, description=CURSOR_DOC)
    limit: int = Field(DEFAULT_CHANGES, ge=1, le=MAX_CHANGES)

    @field_validator("cursor")
    @classmethod
    def _cursor(cls, value: str) -> str:
        feeds.parse_cursor(value)  # ValueError (a 422) beyond a bigint
        return value


@router.get("/changes/doses", response={200: ChangesOut}, url_name="dose_changes")
def get_dose_changes(request, query: Query[ChangesQuery]):
    """Doses recorded since `cursor` in your units, in the order they were committed: keep
    `next_cursor` (opaque) and ask again with it (while `has_more`) instead of reading
    every dose each time. A dose committed late comes on a later page, never skipped."""
    return dose_changes(request.user, cursor=feeds.parse_cursor(query.cursor), limit=query.limit)


class KeyPersonChangeOut(KeyPersonCaseOut):
    id: int
    kind: ChangeKind
    day: date
    at: datetime
    case: int
    resident_id: int | None
    detail: str


class KeyPersonChangesOut(Schema):
    items: list[KeyPersonChangeOut]
    next_cursor: str = Field(..., description=CURSOR_DOC)
    has_more: bool


class KeyPersonChangesQuery(ChangesQuery):
    limit: int = Field(DEFAULT_KEY_PERSON_CHANGES, ge=1, le=MAX_KEY_PERSON_CHANGES)


@router.get(
    "/changes/key-persons",
    response={200: KeyPersonChangesOut},
    url_name="key_person_changes",
    tags=["key persons"],
)
def get_key_person_changes(request, query: Query[KeyPersonChangesQuery]):
    """Changes of the key persons' cases in your units since `cursor`, oldest first: a
    person put under measures (`registered`), transferred to centralized isolation
    (`transferred`, `detail` the place), kept longer by a local decision (`extended`,
    `detail` the decision), released (`released`). Each carries the case's phases as they
    stood after the change; ID numbers and phones masked. Keep `next_cursor` and ask again
    with it (while `has_more`), as with the dose feed."""
    return key_person_changes(
        request.user, cursor=feeds.parse_cursor(query.cursor), limit=query.limit
    )
