"""Resident identity-card numbers (居民身份证号码, GB 11643) and phone numbers.

Validation is python-stdnum's `stdnum.cn.ric`; this module adds what real exports need:
normalising the spellings they contain (spaces, full-width digits, a lowercase x) and the
masked forms shown by default (PIPL).
"""

import unicodedata
from dataclasses import dataclass
from datetime import date

import polars as pl
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
    """Full-width digits to ASCII, spaces and dashes removed, x upper-cased; a 15-digit
    first-generation number upgraded to its 18-digit form (see `upgrade_legacy_number`)."""
    text = unicodedata.normalize("NFKC", str(raw))
    number = "".join(ch for ch in text if not ch.isspace() and ch != "-").upper()
    if len(number) == LEGACY_LENGTH and number.isascii() and number.isdigit():
        return upgrade_legacy_number(number)
    return number


LEGACY_LENGTH = 15


def upgrade_legacy_number(number: str) -> str:
    """The 18-digit number of a 15-digit first-generation card (GB 11643-1989).

    The second-generation number of the same person is the old one with the century "19"
    inserted before the two-digit birth year and a check digit appended, so converting
    lets a register holding either form match the same person. First-generation cards
    stopped being valid in 2013; nobody born after 1999 has one.
    """
    body = number[:6] + "19" + number[6:]
    return body + ric.calc_check_digit(body + "0")


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


#: Characters real exports put in ID numbers, and what they stand for.
FULL_WIDTH_ID_CHARACTERS = {chr(0xFF10 + digit): str(digit) for digit in range(10)} | {
    "ｘ": "X",
    "Ｘ": "X",
}
_CHECK_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS = "10X98765432"


def ascii_digits(column: pl.Expr) -> pl.Expr:
    """Full-width digits (and Ｘ) as exports write them, turned into ASCII."""
    full_width = list(FULL_WIDTH_ID_CHARACTERS)
    return column.str.replace_many(full_width, [FULL_WIDTH_ID_CHARACTERS[c] for c in full_width])


def check_id_numbers(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """The vectorised twin of `parse_id_number` for big files: adds `id_number` (normalised
    as `normalize_id_number` does) and `id_problem` (null when valid, else a reason).

    Same verdicts as python-stdnum (a property test holds the two together): length,
    digits, check digit, birth date, and the region code as assigned in the birth year,
    which is looked up once per distinct (region, year) pair.
    """
    text = (
        ascii_digits(pl.col(column).fill_null("")).str.replace_all(r"[\s\-]", "").str.to_uppercase()
    )
    frame = frame.with_columns(_id_text=text)
    legacy_body = pl.col("_id_text").str.slice(0, 6) + "19" + pl.col("_id_text").str.slice(6)
    frame = frame.with_columns(
        id_number=pl.when(pl.col("_id_text").str.contains(r"^\d{15}$"))
        .then(legacy_body + _check_character(legacy_body))
        .otherwise(pl.col("_id_text"))
    )
    number = pl.col("id_number")
    birth = number.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    frame = frame.with_columns(
        id_problem=pl.when(number == "")
        .then(pl.lit(_("This cell is empty.")))
        .when(number.str.len_chars() != 18)
        .then(
            pl.format(_("An ID number has 18 characters; this one has {}."), number.str.len_chars())
        )
        .when(~number.str.contains(r"^\d{17}[\dX]$"))
        .then(pl.lit(_("Not a valid resident ID number.")))
        .when(number.str.slice(17, 1) != _check_character(number))
        .then(pl.lit(_("Wrong check digit: the number is mistyped.")))
        .when(birth.is_null())
        .then(pl.lit(_("Impossible birth date in the ID number.")))
    )
    return _with_region_problems(frame).drop("_id_text")


def _check_character(number: pl.Expr) -> pl.Expr:
    total = pl.sum_horizontal(
        number.str.slice(position, 1).cast(pl.Int64, strict=False) * weight
        for position, weight in enumerate(_CHECK_WEIGHTS)
    )
    return (total % 11).replace_strict(
        dict(enumerate(_CHECK_CHARACTERS)), default=None, return_dtype=pl.String
    )


def _with_region_problems(frame: pl.DataFrame) -> pl.DataFrame:
    """Mark numbers whose region code did not exist in the birth year (stdnum's database)."""
    pairs = (
        frame.filter(pl.col("id_problem").is_null())
        .group_by(pl.col("id_number").str.slice(0, 10).alias("_region_year"))
        .agg(pl.col("id_number").first())
    )
    unknown = []
    for region_year, number in pairs.iter_rows():
        try:
            ric.get_birth_place(number)
        except stdnum_errors.ValidationError:
            unknown.append(region_year)
    if not unknown:
        return frame
    return frame.with_columns(
        id_problem=pl.when(
            pl.col("id_problem").is_null() & pl.col("id_number").str.slice(0, 10).is_in(unknown)
        )
        .then(pl.lit(_("Unknown region code in the ID number.")))
        .otherwise(pl.col("id_problem"))
    )
