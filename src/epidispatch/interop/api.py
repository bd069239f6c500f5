"""Interoperability over HTTP (DESIGN.md §8): HL7 v2 VXU in, with the caller's scope."""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Router
from ninja.errors import HttpError

from .services import vxu_messages_import

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
