"""The schedule rules (vaccination/rules.py) and the vectorised checks imports rely on."""

from datetime import date, timedelta

import polars as pl
import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from epidispatch.core.dates import add_years, latest_birth_date_for_age
from epidispatch.core.ids import check_id_numbers, parse_id_number
from epidispatch.registry.services import resident_create
from epidispatch.vaccination.models import Dose, VaccinationStatus, VaccineProduct
from epidispatch.vaccination.rules import DOSE_FIELDS, STATUS_FIELDS, derive, load_rules
from epidispatch.vaccination.services import RESIDENT_SCHEMA, doses_settle, stored_doses

from .dose_files import id_number


def one_resident_status(doses, birth=date(1960, 1, 1)):
    """derive() for one resident's [(number, product code, day)]."""
    products = dict(VaccineProduct.objects.values_list("code", "id"))
    frame = pl.DataFrame(
        [(1, n, products[code], day) for n, code, day in doses],
        schema=["resident_id", "dose_number", "product_id", "given_on"],
        orient="row",
    )
    fields, statuses = derive(
        frame, pl.DataFrame({"resident_id": [1], "birth_date": [birth]}), load_rules()
    )
    return fields.sort("dose_number").to_dicts(), statuses.to_dicts()[0]


@pytest.mark.django_db
class TestSeries:
    def test_inactivated_second_dose_from_day_21_and_due_by_day_56(self):
        _fields, status = one_resident_status([(1, "coronavac", date(2021, 5, 1))])
        assert status["next_dose_number"] == 2
        assert status["next_due_from"] == date(2021, 5, 22)
        assert status["next_due_by"] == date(2021, 6, 26)
        assert status["series_complete_on"] is None

    def test_kconvac_second_dose_waits_28_days(self):
        _fields, status = one_resident_status([(1, "kconvac", date(2021, 5, 1))])
        assert status["next_due_from"] == date(2021, 5, 29)

    def test_cansino_completes_the_series_in_one_dose(self):
        fields, status = one_resident_status([(1, "ad5-ncov", date(2021, 5, 1))])
        assert fields[0]["completes_series"] is True
        assert status["series_complete_on"] == date(2021, 5, 1)
        assert status["next_due_by"] is None

    def test_zf2001_third_dose_due_within_six_months_of_the_first(self):
        fields, status = one_resident_status(
            [(1, "zf2001", date(2021, 5, 1)), (2, "zf2001", date(2021, 6, 1))]
        )
        assert fields[0]["next_due_by"] == date(2021, 6, 26)
        assert status["next_due_by"] == date(2021, 10, 28)
        assert status["next_due_from"] == date(2021, 6, 29)

    def test_sequential_booster_is_a_booster_of_another_platform(self):
        fields, status = one_resident_status(
            [(1, "bibp", date(2021, 4, 1)), (2, "bibp", date(2021, 5, 1)),
             (3, "ad5-ncov", date(2021, 12, 1))]
        )  # fmt: skip
        assert [f["booster_number"] for f in fields] == [0, 0, 1]
        assert status["boosters"] == 1 and status["sequential_booster"] is True

    def test_booster_for_60_plus_after_three_months_once_that_rule_is_in_force(self):
        series = [(1, "coronavac", date(2022, 8, 1)), (2, "coronavac", date(2022, 9, 1))]
        _f, older = one_resident_status(series, birth=date(1950, 1, 1))
        _f, younger = one_resident_status(series, birth=date(1990, 1, 1))
        assert older["next_due_from"] == date(2022, 11, 30)  # 90 days, rule of 2022-11-29
        assert younger["next_due_from"] == date(2023, 2, 28)  # 180 days

    def test_second_booster_waits_until_60(self):
        doses = [(1, "coronavac", date(2021, 4, 1)), (2, "coronavac", date(2021, 5, 1)),
                 (3, "coronavac", date(2022, 1, 1))]  # fmt: skip
        _f, older = one_resident_status(doses, birth=date(1950, 1, 1))
        _f, younger = one_resident_status(doses, birth=date(1990, 1, 1))
        assert older["next_dose_number"] == 4 and older["next_due_from"] == date(2022, 12, 14)
        assert younger["next_due_from"] == date(2050, 1, 1)


PRODUCTS = ["bibp", "wibp", "coronavac", "kconvac", "ad5-ncov", "zf2001"]
dose_lists = st.lists(
    st.tuples(
        st.integers(1, 5),
        st.sampled_from(PRODUCTS),
        st.dates(date(2021, 1, 1), date(2023, 6, 30)),
    ),
    max_size=5,
    unique_by=lambda dose: dose[0],
)


@pytest.fixture
def three_residents(tree):
    births = [date(1950, 3, 1), date(1990, 7, 7), date(2010, 2, 28)]
    return [
        resident_create(name=f"r{i}", id_number=id_number(birth), grid=tree.grid)
        for i, birth in enumerate(births)
    ]


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    doses=st.tuples(dose_lists, dose_lists, dose_lists),
    batches=st.lists(st.integers(0, 2), min_size=1, max_size=4),
    order_seed=st.randoms(),
)
def test_status_recomputed_for_touched_residents_equals_a_from_scratch_computation(
    three_residents, doses, batches, order_seed
):
    """Doses arriving in any order, in any batches, each batch recomputing only the
    residents it touches, end in the same figures as deriving everything at once."""
    products = dict(VaccineProduct.objects.values_list("code", "id"))
    rows = [
        {"resident_id": resident.pk, "dose_number": n, "product_id": products[code],
         "given_on": day, "county_code": resident.county_code, "source": "import"}
        for resident, resident_doses in zip(three_residents, doses, strict=True)
        for n, code, day in resident_doses
    ]  # fmt: skip
    order_seed.shuffle(rows)
    parts = [rows[i :: len(batches)] for i in range(len(batches))]
    residents = pl.DataFrame(
        [(r.pk, r.birth_date, r.county_code) for r in three_residents],
        schema=RESIDENT_SCHEMA,
        orient="row",
    )
    rules = load_rules()
    with transaction.atomic():
        for part in filter(None, parts):
            new = pl.DataFrame(part)
            touched = new.get_column("resident_id").unique()
            doses_settle(
                new=new,
                existing=stored_doses(touched.to_list()),
                residents=residents.filter(pl.col("id").is_in(touched.implode())),
                rules=rules,
            )
        incremental_doses = set(
            Dose.objects.values_list("resident_id", "dose_number", *DOSE_FIELDS)
        )
        incremental_status = set(
            VaccinationStatus.objects.values_list("resident_id", *STATUS_FIELDS)
        )
        transaction.set_rollback(True)

    if rows:
        fields, statuses = derive(
            pl.DataFrame(rows).select("resident_id", "dose_number", "product_id", "given_on"),
            residents.rename({"id": "resident_id"}),
            rules,
        )
        derived_doses = fields.select("resident_id", "dose_number", *DOSE_FIELDS)
        assert incremental_doses == set(derived_doses.iter_rows())
        assert incremental_status == set(statuses.select("resident_id", *STATUS_FIELDS).iter_rows())
    else:
        assert incremental_doses == incremental_status == set()


id_texts = st.text(alphabet="0123456789Xx０１２３４５６７８９ｘ -", min_size=0, max_size=20)


@st.composite
def plausible_id_numbers(draw):
    """Mostly well-formed numbers with random dates, regions and check characters."""
    region = draw(st.sampled_from(["622424", "621121", "110101", "999999", "440305"]))
    birth = draw(st.dates(date(1900, 1, 1), date(2030, 12, 31)))
    body = f"{region}{birth:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return body + draw(st.sampled_from("0123456789Xx"))


@settings(max_examples=400, deadline=None)
@given(texts=st.lists(id_texts | plausible_id_numbers(), min_size=1, max_size=20))
def test_vectorised_id_check_agrees_with_the_scalar_rule(texts):
    checked = check_id_numbers(pl.DataFrame({"raw": texts}, schema={"raw": pl.String}), "raw")
    for raw, number, problem in checked.select("raw", "id_number", "id_problem").iter_rows():
        try:
            expected = parse_id_number(raw).number
        except ValidationError:
            expected = None
        assert (problem is None) == (expected is not None), (raw, problem)
        if expected:
            assert number == expected


def test_fifteen_digit_numbers_become_their_eighteen_digit_form():
    body = "62242419800101123"
    upgraded = body + ric.calc_check_digit(body + "0")
    checked = check_id_numbers(pl.DataFrame({"raw": ["622424 800101 123"]}), "raw").row(0)

    assert parse_id_number("622424800101123").number == upgraded
    assert checked[1:] == (upgraded, None)


@given(
    birth=st.dates(date(1980, 1, 1), date(2010, 12, 31)),
    on=st.dates(date(1998, 1, 1), date(2030, 12, 31)),
)
def test_adult_cutoff_agrees_with_birthdays(birth, on):
    assert (add_years(birth, 18) <= on) == (birth <= latest_birth_date_for_age(on, 18))


def test_born_on_29_february_is_of_age_on_28_february():
    assert latest_birth_date_for_age(date(2022, 2, 28), 18) == date(2004, 2, 29)
    assert latest_birth_date_for_age(date(2022, 2, 27), 18) < date(2004, 2, 29)
    assert add_years(date(2004, 2, 29), 18) == date(2022, 2, 28)
    assert timedelta(0) == add_years(date(2004, 2, 29), 20) - date(2024, 2, 29)
