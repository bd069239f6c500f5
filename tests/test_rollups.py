"""Live figures (figures/rollups.py): kept in every write's transaction, equal to a recount
and to an independent count in plain Python over the raw rows."""

from collections import defaultdict
from datetime import date, timedelta

import polars as pl
import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from epidispatch.accounts.models import Role
from epidispatch.core.dates import add_years
from epidispatch.fieldwork.models import PROOF_OUTCOMES, REASON_OUTCOMES, VisitOutcome
from epidispatch.fieldwork.services import visit_record
from epidispatch.figures import rollups
from epidispatch.figures.models import FIGURES, Rollup
from epidispatch.figures.rollups import (
    banded_on,
    leaf_figures,
    rollups_reband,
    rollups_recount,
)
from epidispatch.registry.models import Resident, ResidentStatus
from epidispatch.registry.services import resident_create, resident_status_change
from epidispatch.vaccination.models import Dose, VaccineProduct
from epidispatch.vaccination.rules import load_rules
from epidispatch.vaccination.services import (
    RESIDENT_SCHEMA,
    dose_correct,
    dose_delete,
    doses_settle,
    stored_doses,
)

from .dose_files import id_number
from .fieldwork_fixtures import _media_root, upload  # noqa: F401 - proofs under tmp_path

TODAY = date(2021, 8, 6)


def live() -> dict:
    """The live leaves as {(grid id, band): figures}, leaves that sum to nothing left out."""
    return {
        (row["grid_id"], row["band"]): [row[f] for f in FIGURES]
        for row in Rollup.objects.values("grid_id", "band", *FIGURES)
        if any(row[f] for f in FIGURES)
    }


def recount() -> dict:
    return {
        (grid, band): values
        for (grid, band, _path, _county), values in leaf_figures(
            None, banded_on=banded_on()
        ).items()
    }


def age_on(birth: date, day: date) -> int:
    """Full years on `day`; someone born on 29 February has their birthday on 28 February
    in other years."""
    birthday = (birth.month, birth.day)
    if birthday == (2, 29) and not (day.year % 4 == 0 and (day.year % 100 or day.year % 400 == 0)):
        birthday = (2, 28)
    return day.year - birth.year - ((day.month, day.day) < birthday)


def counted_in_python(day: date) -> dict:
    """The figures of every leaf counted from the raw rows in plain Python, written from
    DESIGN.md §2 apart from the SQL the platform counts with: bands 0-2 (outside the
    target population), 3-11, 12-17, 18-59, 60-79, 80+ by age on `day`; the target is the
    residents of 3 and over not deceased or moved out; 清零 (to_clear) is the target with no
    dose, not away, contraindicated, deceased or moved out."""
    doses = defaultdict(list)
    for resident_id, completes, booster_number, sequential in Dose.objects.values_list(
        "resident_id", "completes_series", "booster_number", "sequential"
    ):
        doses[resident_id].append((completes, booster_number, sequential))
    leaves: dict = {}
    for resident_id, grid_id, birth, status in Resident.objects.values_list(
        "id", "grid_id", "birth_date", "status"
    ):
        age = age_on(birth, day)
        band = next(
            name
            for name, lowest in (
                ("80+", 80), ("60-79", 60), ("18-59", 18), ("12-17", 12), ("3-11", 3), ("0-2", 0)
            )
            if age >= lowest
        )  # fmt: skip
        own = doses[resident_id]
        in_target = band != "0-2" and status not in ("deceased", "moved_out")
        excused = status in ("away", "contraindicated", "deceased", "moved_out")
        figures = [
            1,
            int(in_target),
            len(own),
            int(bool(own)),
            int(any(completes for completes, _b, _s in own)),
            int(any(booster >= 1 for _c, booster, _s in own)),
            int(any(sequential for _c, _b, sequential in own)),
            int(band != "0-2" and not own and not excused),
        ]
        leaf = leaves.setdefault((grid_id, band), [0] * len(FIGURES))
        for index, value in enumerate(figures):
            leaf[index] += value
    return {leaf: values for leaf, values in leaves.items() if any(values)}


def add_dose(resident: Resident, day: date, code: str = "coronavac") -> None:
    """Store the resident's next dose the way an import does."""
    existing = stored_doses([resident.pk])
    product = VaccineProduct.objects.get(code=code)
    new = pl.DataFrame(
        [
            {
                "resident_id": resident.pk,
                "dose_number": existing.height + 1,
                "product_id": product.pk,
                "given_on": day,
                "source": "import",
                "county_code": resident.county_code,
            }
        ]
    )
    residents = pl.DataFrame(
        [(resident.pk, resident.birth_date, resident.county_code)],
        schema=RESIDENT_SCHEMA,
        orient="row",
    )
    with transaction.atomic():
        doses_settle(new=new, existing=existing, residents=residents, rules=load_rules())


#: Ages on TODAY around every band boundary, and a newborn.
AGES = (0, 2, 3, 11, 12, 17, 18, 59, 60, 79, 80, 95)


operations = st.lists(
    st.one_of(
        st.tuples(st.just("resident"), st.sampled_from(AGES), st.integers(0, 2), st.integers(0, 3)),
        st.tuples(st.just("dose"), st.integers(0, 30), st.integers(21, 60)),
        st.tuples(st.just("status"), st.integers(0, 30), st.sampled_from(ResidentStatus.values)),
        st.tuples(st.just("visit"), st.integers(0, 30), st.sampled_from(VisitOutcome.values)),
        st.tuples(st.just("correct"), st.integers(0, 30), st.integers(1, 10)),
        st.tuples(st.just("delete"), st.integers(0, 30)),
        st.tuples(st.just("next_day"), st.integers(1, 400)),
    ),
    max_size=25,
)


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=operations, bulk_path=st.booleans())
def test_incremental_figures_equal_an_independent_count_after_any_changes(
    tree, make_user, steps, bulk_path
):
    """Whether a write is counted resident by resident (two statements) or by leaf (the
    import path), the live figures equal a count in plain Python over the raw rows, and
    so does the SQL recount."""

    class Rollback(Exception):
        pass

    limit = rollups.ROW_TRACKING_LIMIT
    rollups.ROW_TRACKING_LIMIT = 0 if bulk_path else limit
    try:
        with transaction.atomic():
            dispatcher = make_user(Role.DISPATCHER, tree.county)
            official = make_user(Role.TOWN_OFFICIAL, tree.town, tree.other_town)
            rollups_recount(day=TODAY)
            grids = (tree.grid, tree.sibling_grid, tree.other_grid)
            residents: list[Resident] = []
            day = TODAY
            for step in steps:
                kind, *args = step
                if kind == "resident":
                    age, grid, initial_doses = args
                    birth = add_years(TODAY, -age) - timedelta(days=initial_doses * 3)
                    resident = resident_create(
                        name="甲", id_number=id_number(birth), grid=grids[grid]
                    )
                    for n in range(initial_doses):
                        add_dose(resident, date(2021, 3, 1) + timedelta(days=30 * n))
                    residents.append(resident)
                elif not residents:
                    continue
                elif kind == "dose":
                    resident = residents[args[0] % len(residents)]
                    last = Dose.objects.filter(resident=resident).order_by("-dose_number").first()
                    start = last.given_on if last else date(2021, 3, 1)
                    add_dose(resident, start + timedelta(days=args[1]))
                elif kind == "status":
                    resident = residents[args[0] % len(residents)]
                    resident_status_change(resident=resident, status=args[1], by=dispatcher)
                elif kind == "visit":  # the status through the visit's own figures lock
                    resident = residents[args[0] % len(residents)]
                    visit_record(
                        resident=resident,
                        outcome=args[1],
                        by=official,
                        reason="对疫苗成分过敏" if args[1] in REASON_OUTCOMES else "",
                        proof=upload() if args[1] in PROOF_OUTCOMES else None,
                    )
                elif kind in ("correct", "delete"):
                    resident = residents[args[0] % len(residents)]
                    last = Dose.objects.filter(resident=resident).order_by("-dose_number").first()
                    if last is None:
                        continue
                    if kind == "delete":
                        dose_delete(dose=last, by=dispatcher, reason="录入错误")
                    else:
                        dose_correct(
                            dose=last,
                            given_on=last.given_on + timedelta(days=args[1]),
                            product=VaccineProduct.objects.get(code="bibp"),
                            by=dispatcher,
                            reason="日期录错",
                        )
                elif kind == "next_day":
                    day += timedelta(days=args[0])
                    rollups_reband(day=day)
                expected = counted_in_python(banded_on())
                assert live() == expected, step
                assert {leaf: v for leaf, v in recount().items() if any(v)} == expected, step
            raise Rollback
    except Rollback:
        pass
    finally:
        rollups.ROW_TRACKING_LIMIT = limit


@pytest.mark.django_db
def test_a_dose_moves_the_figures_of_every_unit_above_in_the_same_transaction(tree):
    rollups_recount(day=TODAY)
    resident = resident_create(name="乙", id_number=id_number(date(1950, 1, 1)), grid=tree.grid)
    leaf = Rollup.objects.get(grid=tree.grid, band="60-79")
    assert (leaf.residents, leaf.target, leaf.first_dose, leaf.to_clear) == (1, 1, 0, 1)
    add_dose(resident, date(2021, 5, 1))
    leaf.refresh_from_db()
    assert (leaf.doses, leaf.first_dose, leaf.to_clear) == (1, 1, 0)


@pytest.mark.django_db
def test_reband_moves_a_resident_on_their_60th_birthday(tree):
    birth = date(1961, 8, 7)  # 60 on 2021-08-07
    rollups_recount(day=TODAY)
    resident_create(name="丙", id_number=id_number(birth), grid=tree.grid)
    assert Rollup.objects.get(grid=tree.grid, band="18-59").residents == 1
    assert rollups_reband(day=TODAY + timedelta(days=1)) == 1
    assert Rollup.objects.get(grid=tree.grid, band="18-59").residents == 0
    assert Rollup.objects.get(grid=tree.grid, band="60-79").residents == 1
    assert rollups_reband(day=TODAY + timedelta(days=1)) == 0


@pytest.mark.django_db
def test_a_long_list_of_residents_is_counted_alike_through_the_key_table(tree, monkeypatch):
    people = [
        resident_create(name="丁", id_number=id_number(date(1940 + 7 * n, 1, 1)), grid=grid)
        for n, grid in enumerate((tree.grid, tree.other_grid, tree.grid, tree.far_grid, tree.grid))
    ]
    for person in people[:3]:
        add_dose(person, date(2021, 5, 1))
    ids = [person.pk for person in people]
    everyone = leaf_figures(None, banded_on=TODAY)
    in_chunks = leaf_figures(ids, banded_on=TODAY)
    monkeypatch.setattr(rollups, "CHUNK", 2)  # 5 ids > 2: one query through the key table
    assert leaf_figures(ids, banded_on=TODAY) == in_chunks == everyone
