"""ID-card numbers (GB 11643): the spellings real exports contain, the check digit, masking."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from epidispatch.core.ids import mask_id_number, mask_phone, normalize_id_number, parse_id_number

VALID = "62242419800101003X"


@pytest.mark.parametrize(
    "spelling",
    [VALID, "62242419800101003x", " 622424 19800101 003X ", "６２２４２４１９８００１０１００３ｘ"],
)
def test_real_export_spellings_normalise_to_the_same_number(spelling):
    assert parse_id_number(spelling).number == VALID


def test_birth_date_and_sex_come_from_the_number():
    card = parse_id_number(VALID)
    assert card.birth_date == date(1980, 1, 1)
    assert card.sex == "M"  # 17th digit 3 is odd
    assert parse_id_number("622424198001010021").sex == "F"


def test_wrong_check_digit_is_refused_in_chinese_without_revealing_the_number():
    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        parse_id_number("622424198001010010")
    message = caught.value.messages[0]
    assert message == "身份证号码 622424**********10 校验位错误。"
    assert "19800101" not in message


@pytest.mark.parametrize("number", ["62242419800101003", "6224241980010100311", ""])
def test_wrong_length_is_refused(number):
    with pytest.raises(ValidationError) as caught:
        parse_id_number(number)
    assert caught.value.code == "id_length"


def test_impossible_birth_date_is_refused():
    body = "62242419801301001"
    with pytest.raises(ValidationError):
        parse_id_number(body + ric.calc_check_digit(body + "0"))


def test_masks_hide_birth_date_and_middle_digits():
    assert mask_id_number(VALID) == "622424**********3X"
    assert mask_phone("13812345678") == "138****5678"
    assert normalize_id_number("１２ ３-x") == "123X"


@given(
    birth=st.dates(min_value=date(1920, 1, 1), max_value=date(2002, 12, 31)),
    sequence=st.integers(min_value=0, max_value=999),
)
def test_any_well_formed_number_round_trips(birth, sequence):
    body = f"622424{birth:%Y%m%d}{sequence:03d}"
    number = body + ric.calc_check_digit(body + "0")
    card = parse_id_number(number.lower())
    assert card.number == number
    assert card.birth_date == birth
    assert card.sex == ("M" if sequence % 2 else "F")
    assert mask_id_number(number)[6:16] == "*" * 10
