"""Fixtures shared by the screening tests (tests/test_screening_*.py).

`county_round` is the hand-computed fixture of the §8 figures: a round over 通渭县 with
21 people on its target list, sampled as `FIGURES` says (see `sample_the_fixture`)."""

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone, translation

from epidispatch.accounts.models import Role
from epidispatch.registry.models import Resident, ResidentStatus
from epidispatch.registry.services import resident_create
from epidispatch.screening.models import Tube
from epidispatch.screening.services import (
    round_create,
    sample_collect,
    tube_close,
    tube_result_record,
    tubes_receive,
    tubes_send,
)

from .test_registry_pages import id_number

__all__ = [
    "_english",
    "collector",
    "county_round",
    "far_officer",
    "officer",
    "population",
    "worker",
]

DAY = date(2022, 4, 2)
#: (grid attribute, ID sequence numbers present, numbers not living there and their status)
POPULATION = {
    "grid": (range(1, 13), {13: ResidentStatus.AWAY, 14: ResidentStatus.DECEASED}),
    "sibling_grid": (range(21, 26), {}),
    "other_grid": (range(31, 35), {35: ResidentStatus.MOVED_OUT}),
    "far_grid": (range(41, 43), {}),
}
#: Not in the registry at all: travellers.
TRAVELLERS = (98, 99)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(
        DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=timezone.get_current_timezone()
    )


def person(sequence: int) -> str:
    return id_number(sequence)


@pytest.fixture(autouse=True)
def _english():
    """Messages are matched in English here; the Chinese catalogue has its own test."""
    with translation.override("en"):
        yield


@pytest.fixture
def officer(tree, make_user):
    return make_user(Role.SCREENING_OFFICER, tree.county, username="screening-tongwei")


@pytest.fixture
def far_officer(tree, make_user):
    return make_user(Role.SCREENING_OFFICER, tree.other_county, username="screening-longxi")


@pytest.fixture
def collector(tree, make_user):
    return make_user(Role.SITE_STAFF, tree.site, username="collector-pingxiang")


@pytest.fixture
def worker(tree, make_user):
    return make_user(Role.GRID_WORKER, tree.grid, username="worker-beiguan-1")


@pytest.fixture
def population(tree) -> dict[int, Resident]:
    residents = {}
    for grid_attribute, (present, elsewhere) in POPULATION.items():
        grid = getattr(tree, grid_attribute)
        for sequence in [*present, *elsewhere]:
            residents[sequence] = resident_create(
                name=f"居民{sequence:02d}", id_number=person(sequence), grid=grid
            )
        for sequence, status in elsewhere.items():
            Resident.objects.filter(pk=residents[sequence].pk).update(status=status)
    return residents


@pytest.fixture
def county_round(tree, population, officer):
    return round_create(
        unit=tree.county, name="第3轮全员核酸", day=DAY, by=officer, starts_at=at(7)
    )


#: Tubes of the fixture: barcode → (capacity, ID sequence numbers), in collection order.
TUBES = {
    "A0001": (10, list(range(1, 11))),
    "B0002": (10, [11, 21, 22, 41, 99]),
    "C0003": (5, [31, 32]),
    "D0004": (10, [98, 42]),
}
RESULTS = {"A0001": "positive", "B0002": "negative", "D0004": "negative"}
#: Single-tube retests of members of the positive pool A0001: barcode → (person, result).
RETESTS = {"S0001": (1, "negative"), "S0002": (2, "positive"), "S0003": (3, None)}

#: The figures, counted by hand.
#: Target: 12 + 5 + 4 present in the county (13 away, 14 deceased, 35 moved out are not;
#: 41, 42 live in another county, 98, 99 in none). Sampled: 1–11, 21, 22, 31, 32.
#: Tubes holding a target person: A, B, C, S1, S2, S3 (D holds travellers only); reported:
#: A, B, S1, S2; positive: A, S2. Retest pending: 3–10 (3's single tube has no result);
#: retest positive: 2.
FIGURES = {
    "county": {
        "target": 21, "sampled": 15, "not_sampled": 6, "tubes": 6, "tubes_reported": 4,
        "positive_tubes": 2, "retest_pending": 8, "retest_positive": 1,
    },
    "town": {
        "target": 17, "sampled": 13, "not_sampled": 4, "tubes": 5, "tubes_reported": 4,
        "positive_tubes": 2, "retest_pending": 8, "retest_positive": 1,
    },
    "other_town": {
        "target": 4, "sampled": 2, "not_sampled": 2, "tubes": 1, "tubes_reported": 0,
        "positive_tubes": 0, "retest_pending": 0, "retest_positive": 0,
    },
    "sibling_grid": {
        "target": 5, "sampled": 2, "not_sampled": 3, "tubes": 1, "tubes_reported": 1,
        "positive_tubes": 0, "retest_pending": 0, "retest_positive": 0,
    },
}  # fmt: skip


def sample_rows() -> list[list]:
    """The fixture's sample list as a file holds it: 试管编号, 身份证件号码, 姓名, 采样时间,
    采样点, 混采人数; the retests after the pools."""
    rows = []
    for minute, (barcode, (capacity, people)) in enumerate(TUBES.items()):
        for sequence in people:
            rows.append(
                [barcode, person(sequence), f"居民{sequence:02d}",
                 f"2022-04-02 08:{minute:02d}", "北关社区采样点", str(capacity)]
            )  # fmt: skip
    return rows


def retest_rows() -> list[list]:
    return [
        [
            barcode,
            person(sequence),
            f"居民{sequence:02d}",
            "2022-04-02 15:00",
            "北关社区采样点",
            "1",
        ]
        for barcode, (sequence, _result) in RETESTS.items()
    ]


def result_rows(results: dict[str, str], when: str = "2022-04-02 14:00") -> list[list]:
    return [[barcode, result, when, "定西市疾控中心"] for barcode, result in results.items()]


SAMPLE_HEADERS = ["试管编号", "身份证件号码", "姓名", "采样时间", "采样点", "混采人数"]
RESULT_HEADERS = ["试管编号", "检测结果", "检测时间", "检测机构"]
ROUND_DURATION = timedelta(hours=24)


def sample_the_fixture(screening_round, by, *, retests: bool = True) -> None:
    """Collect, send, receive and report the fixture's tubes through the services."""
    for minute, (barcode, (capacity, people)) in enumerate(TUBES.items()):
        for sequence in people:
            sample_collect(
                screening_round=screening_round,
                barcode=barcode,
                id_number=person(sequence),
                name=f"居民{sequence:02d}",
                capacity=capacity,
                by=by,
                at=at(8, minute),
            )
    for tube in Tube.objects.filter(round=screening_round, closed_at__isnull=True):
        tube_close(tube=tube, by=by, at=at(9))
    tubes_send(screening_round=screening_round, barcodes=TUBES, courier="王师傅", by=by, at=at(10))
    tubes_receive(screening_round=screening_round, barcodes=TUBES, by=by, at=at(11))
    for barcode, result in RESULTS.items():
        tube = Tube.objects.get(round=screening_round, barcode=barcode)
        tube_result_record(tube=tube, result=result, tested_at=at(14), lab="定西市疾控中心", by=by)
    if not retests:
        return
    for barcode, (sequence, result) in RETESTS.items():
        sample_collect(
            screening_round=screening_round,
            barcode=barcode,
            id_number=person(sequence),
            capacity=1,
            by=by,
            at=at(15),
        )
        if result:
            tube = Tube.objects.get(round=screening_round, barcode=barcode)
            tube_result_record(
                tube=tube, result=result, tested_at=at(18), lab="定西市疾控中心", by=by
            )
