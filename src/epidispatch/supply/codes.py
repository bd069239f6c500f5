"""The codes printed on vaccine packs, read the way a site's scanner delivers them.

Chinese packs carry the 20-digit drug trace code (药品追溯码, NMPAB/T 1002-2019: the first
7 digits identify the product; 码上放心 codes start with 8). Imported packs may carry a GS1
DataMatrix instead: GTIN (01), expiry (17), lot (10) and serial (21), read with biip. A
GS1 pack is stored by GTIN and serial ("01…21…"), so the same pack scanned with its fields
in another order, or in brackets, is the same code.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

TRACE_CODE_DIGITS = 20
PRODUCT_PREFIX_DIGITS = 7
#: The longest text a scanner field takes; a DataMatrix of a vaccine pack is far shorter.
MAX_SCAN_LENGTH = 120
#: AIM symbology identifiers a scanner may put in front (GS1 DataMatrix, GS1-128, QR).
SYMBOLOGY_PREFIXES = ("]d2", "]C1", "]Q3")


class TraceKind:
    NMPA = "nmpa"  # 药品追溯码
    GS1 = "gs1"


@dataclass(frozen=True)
class PackCode:
    """What a pack's code says. `code` is the form stored on packages and doses."""

    kind: str
    code: str
    product_prefix: str = ""
    gtin: str = ""
    lot_number: str = ""
    expires_on: date | None = None
    serial: str = ""


def pack_code_parse(raw: str) -> PackCode:
    """Read a scanned or typed pack code, or raise ValidationError saying what is wrong."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text:
        raise ValidationError(_("No code was scanned."), code="empty")
    if len(text) > MAX_SCAN_LENGTH or "\x00" in text:
        raise ValidationError(_("This is not the code of a vaccine pack."), code="malformed")
    # Digits alone are a trace code, unless longer and led by GS1's GTIN identifier (01).
    if text.isdigit() and not (len(text) > TRACE_CODE_DIGITS and text.startswith("01")):
        return _trace_code(text)
    return _gs1(text)


def _trace_code(text: str) -> PackCode:
    if len(text) != TRACE_CODE_DIGITS:
        raise ValidationError(
            _("A drug trace code has 20 digits; this one has %(count)d.") % {"count": len(text)},
            code="malformed",
        )
    return PackCode(kind=TraceKind.NMPA, code=text, product_prefix=text[:PRODUCT_PREFIX_DIGITS])


def _gs1(text: str) -> PackCode:
    """A GS1 element string: bracketed (01)…(17)…, or raw with FNC1 separators."""
    # Imported here for start-up time: biip costs every process ~0.1 s at import.
    from biip import ParseError
    from biip.gs1_messages import GS1Message

    for prefix in SYMBOLOGY_PREFIXES:
        text = text.removeprefix(prefix)
    try:
        parse = GS1Message.parse_hri if text.startswith("(") else GS1Message.parse
        message = parse(text)
    except ParseError:
        raise ValidationError(
            _("This GS1 code cannot be read: %(code)s") % {"code": _printable(text)},
            code="malformed",
        ) from None
    fields = {element.ai.ai: element for element in message.element_strings}
    gtin = fields.get("01")
    if gtin is None or gtin.gtin is None:
        raise ValidationError(
            _("This GS1 code has no valid GTIN (01): %(code)s") % {"code": _printable(text)},
            code="malformed",
        )
    serial = fields["21"].value if "21" in fields else ""
    if not serial:
        raise ValidationError(
            _("This GS1 code has no serial number (21), so it names no single pack."),
            code="malformed",
        )
    expiry = fields.get("17")
    return PackCode(
        kind=TraceKind.GS1,
        code=f"01{gtin.value}21{serial}",
        gtin=gtin.value,
        lot_number=fields["10"].value if "10" in fields else "",
        expires_on=expiry.date if expiry else None,
        serial=serial,
    )


def _printable(text: str) -> str:
    return re.sub(r"[\x00-\x1f]", "·", text)[:60]


def trace_code_is_wellformed(code: str) -> bool:
    """The 国家督察 rule "malformed trace code": a dose's code is neither a 20-digit trace
    code nor a readable GS1 string naming one pack."""
    try:
        pack_code_parse(code)
    except ValidationError:
        return False
    return True
