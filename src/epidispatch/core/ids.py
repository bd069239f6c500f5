"""Resident identity-card numbers (居民身份证号码, GB 11643) and phone numbers.

The rule (DESIGN.md §7), the same for every file, form, API call and checkpoint: 18
characters, the check digit right, a real birth date neither in the future nor more than
MAX_AGE_YEARS back, and a first six digits that are a GB/T 2260 code of ANY year.

Where this departs from python-stdnum: `stdnum.cn.ric.validate` also requires the region
code to have been in force in the birth year. Numbers are issued where and when a person
first registers, so late registrations and renamed counties (通渭县 622424 → 621121 in
2003) give numbers stdnum refuses: a register of people born before 2003 with 621121 was
mostly rejected. We keep stdnum for the check digit (`calc_check_digit`), the birth date
(`get_birth_date`) and its table of codes (`stdnum/cn/loc.dat`, every code with the years
it was in force), but accept a code found there for any year, and add the age bounds
stdnum lacks. A code absent from the table (never existed) is refused.

This module also normalises the spellings real exports contain (spaces, full-width
digits, a lowercase x) and gives the masked forms shown by default (PIPL).
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache

import polars as pl
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumInvalid

#: Nobody older than this is alive to register: an older birth date is a typing error.
MAX_AGE_YEARS = 120
_NUMBER_FORM = re.compile(r"^\d{17}[\dX]$")


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


@cache
def region_code_known(code: str) -> bool:
    """Whether `code` is a GB/T 2260 county-level code of any year (stdnum's table)."""
    return any("county" in props for _part, props in numdb.get("cn/loc").info(code))


def birth_date_bounds(today: date | None = None) -> tuple[date, date]:
    """The earliest and latest birth dates an ID number may carry today."""
    today = today or timezone.localdate()
    try:
        earliest = today.replace(year=today.year - MAX_AGE_YEARS)
    except ValueError:  # 29 February
        earliest = today.replace(year=today.year - MAX_AGE_YEARS, day=28)
    return earliest, today


def parse_id_number(raw: str) -> IdCard:
    """Validate an ID number by the rule of this module and derive birth date and sex."""
    number = normalize_id_number(raw)
    masked = {"number": mask_id_number(number)}
    if len(number) != 18:
        raise ValidationError(
            _("An ID number has 18 characters; this one has %(length)d.") % {"length": len(number)},
            code="id_length",
        )
    if not _NUMBER_FORM.match(number):
        raise ValidationError(
            _("ID number %(number)s is not a valid resident ID number.") % masked,
            code="id_invalid",
        )
    if ric.calc_check_digit(number) != number[-1]:
        raise ValidationError(
            _("ID number %(number)s has a wrong check digit.") % masked, code="id_checksum"
        )
    try:
        birth = ric.get_birth_date(number)
    except StdnumInvalid:  # no such day
        birth = None
    earliest, latest = birth_date_bounds()
    if birth is None or not earliest <= birth <= latest:
        raise ValidationError(
            _("ID number %(number)s has an impossible birth date.") % masked, code="id_birth"
        )
    if not region_code_known(number[:6]):
        raise ValidationError(
            _("ID number %(number)s has a region code that never existed.") % masked,
            code="id_region",
        )
    return IdCard(number=number, birth_date=birth, sex="M" if int(number[16]) % 2 else "F")


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

    Same verdicts as `parse_id_number` (a property test holds the two together): length,
    digits, check digit, birth date within bounds, and a region code of any year, looked
    up once per distinct code.
    """
    text = (
        ascii_digits(pl.col(column).fill_null("")).str.replace_all(r"[\s\-]", "").str.to_uppercase()
    )
    frame = frame.with_columns(_id_text=text)
    legacy = pl.col("_id_text").str.contains(r"^\d{15}$")
    if frame.select(legacy.any()).item():
        # Rare: the check digit of the lengthened numbers is worked out only when some
        # are there (on a million rows it costs half a second).
        legacy_body = pl.col("_id_text").str.slice(0, 6) + "19" + pl.col("_id_text").str.slice(6)
        frame = frame.with_columns(
            id_number=pl.when(legacy)
            .then(legacy_body + _check_character(legacy_body))
            .otherwise(pl.col("_id_text"))
        )
    else:
        frame = frame.with_columns(id_number=pl.col("_id_text"))
    number = pl.col("id_number")
    birth = number.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    earliest, latest = birth_date_bounds()
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
        .when(birth.is_null() | (birth < earliest) | (birth > latest))
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
    """Mark numbers whose region code never existed (stdnum's table, any year)."""
    codes = (
        frame.filter(pl.col("id_problem").is_null())
        .get_column("id_number")
        .str.slice(0, 6)
        .unique()
        .to_list()
    )
    unknown = [code for code in codes if not region_code_known(code)]
    if not unknown:
        return frame
    return frame.with_columns(
        id_problem=pl.when(
            pl.col("id_problem").is_null() & pl.col("id_number").str.slice(0, 6).is_in(unknown)
        )
        .then(pl.lit(_("Unknown region code in the ID number.")))
        .otherwise(pl.col("id_problem"))
    )
