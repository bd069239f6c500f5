"""Resident identity-card numbers (居民身份证号码, GB 11643) and phone numbers.

Validation is python-stdnum's `stdnum.cn.ric`; this module adds what real exports need:
normalising the spellings they contain (spaces, full-width digits, a lowercase x) and the
masked forms shown by default (PIPL).
"""

import unicodedata
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric


@dataclass(frozen=True)
class IdCard:
    number: str
    birth_date: date
    sex: str  # "M" or "F", from the parity of the 17th digit


def normalize_id_number(raw: str) -> str:
    """Full-width digits to ASCII, spaces and dashes removed, x upper-cased."""
    text = unicodedata.normalize("NFKC", str(raw))
    return "".join(ch for ch in text if not ch.isspace() and ch != "-").upper()


def parse_id_number(raw: str) -> IdCard:
    """Validate an 18-character ID number and derive birth date and sex from it."""
    number = normalize_id_number(raw)
    try:
        number = ric.validate(number)
    except stdnum_errors.InvalidChecksum:
        raise ValidationError(
            _("ID number %(number)s has a wrong check digit.") % {"number": mask_id_number(number)},
            code="id_checksum",
        ) from None
    except stdnum_errors.InvalidLength:
        raise ValidationError(
            _("An ID number has 18 characters; this one has %(length)d.") % {"length": len(number)},
            code="id_length",
        ) from None
    except stdnum_errors.InvalidComponent:
        raise ValidationError(
            _("ID number %(number)s has an unknown region code or an impossible birth date.")
            % {"number": mask_id_number(number)},
            code="id_component",
        ) from None
    except stdnum_errors.ValidationError:
        raise ValidationError(
            _("ID number %(number)s is not a valid resident ID number.")
            % {"number": mask_id_number(number)},
            code="id_invalid",
        ) from None
    return IdCard(
        number=number,
        birth_date=ric.get_birth_date(number),
        sex="M" if int(number[16]) % 2 else "F",
    )


def mask_id_number(number: str) -> str:
    """621121**********3X: region kept, birth date and sequence hidden."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 8) + number[-2:]


def mask_phone(phone: str) -> str:
    """138****1234."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
