"""Reading pack codes: 20-digit drug trace codes (NMPAB/T 1002-2019, 码上放心) and GS1."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils.translation import override
from hypothesis import given
from hypothesis import strategies as st

from epidispatch.supply.codes import TraceKind, pack_code_parse, trace_code_is_wellformed

from .supply_fixtures import gs1


def refusal(raw: str) -> str:
    with override("zh-hans"), pytest.raises(ValidationError) as caught:
        pack_code_parse(raw)
    return " ".join(caught.value.messages)


def test_a_20_digit_trace_code_gives_its_product_identifier():
    code = pack_code_parse(" 81234560000000000001 ")
    assert (code.kind, code.code, code.product_prefix) == (
        TraceKind.NMPA,
        "81234560000000000001",
        "8123456",
    )


def test_a_19_digit_trace_code_is_refused_with_its_length():
    assert "19" in refusal("8123456000000000000")


def test_full_width_digits_from_a_typed_code_are_read():
    typed = "８１２３４５６００００００００００００１"
    assert pack_code_parse(typed).code == "81234560000000000001"


def test_a_gs1_pack_gives_gtin_lot_expiry_and_serial_in_any_notation():
    raw = gs1("202105B", date(2022, 6, 30), "0001")
    bracketed = "(01)06901234567892(17)220630(10)202105B(21)0001"
    for text in (raw, "]d2" + raw, bracketed):
        code = pack_code_parse(text)
        assert code.kind == TraceKind.GS1
        assert (code.gtin, code.lot_number, code.expires_on, code.serial) == (
            "06901234567892",
            "202105B",
            date(2022, 6, 30),
            "0001",
        )
        assert code.code == "010690123456789221" + "0001"


@pytest.mark.parametrize(
    "text",
    [
        "(01)12345",  # a GTIN too short
        "0106901234567893172206301012345\x1d210001",  # a wrong GTIN check digit
        "(01)06901234567892(17)220630(10)202105B",  # no serial: names no single pack
        "(99",
        "010690123456789217220",  # an expiry cut short
    ],
)
def test_a_malformed_gs1_string_is_refused(text):
    assert refusal(text)
    assert not trace_code_is_wellformed(text)


def test_nul_bytes_and_overlong_input_are_refused_not_crashed():
    assert refusal("8123456\x000000000000001")
    assert refusal("8" * 500)
    assert refusal("")


@given(st.text(max_size=80))
def test_any_text_is_either_read_or_refused_with_a_reason(text):
    try:
        code = pack_code_parse(text)
    except ValidationError as error:
        assert error.messages
    else:
        assert len(code.code) <= 40
