"""DESIGN.md §7 as a script uses it: `epidispatch` commands run as subprocesses against
the test database, and the API's coverage equal to the command's."""

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from django.test import Client

from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create
from epidispatch.registry.models import Resident, ResidentStatus
from epidispatch.registry.services import resident_create
from epidispatch.vaccination.models import Dose, VaccinationStatus

from .cli import run
from .dose_files import DOSE_HEADERS, FORMATS, RESIDENT_HEADERS, dose_row, id_number, write_table

pytestmark = pytest.mark.django_db(transaction=True)

AS_OF = date(2021, 8, 1)
#: Series length of the products the fixture uses (from the 2021 guide, written out here
#: so the expected figures do not come from the code under test).
SERIES = {"北京科兴中维生物技术有限公司": 2, "康希诺生物股份公司": 1}
SECOND_DOSE_LATEST_DAY = 56


@dataclass
class Person:
    key: str
    birth: date
    doses: list[tuple[date, str]] = field(default_factory=list)  # (day, manufacturer)
    status: str = ResidentStatus.PRESENT
    town: str = "town"  # attribute of the Tree fixture holding their grid's town
    registered: bool = True


SINOVAC, CANSINO = "北京科兴中维生物技术有限公司", "康希诺生物股份公司"
PEOPLE = [
    Person("complete", date(1970, 3, 1),
           [(date(2021, 5, 1), SINOVAC), (date(2021, 6, 1), SINOVAC)]),
    Person("overdue", date(1960, 1, 9), [(date(2021, 5, 1), SINOVAC)]),
    Person("due_later", date(1985, 6, 30), [(date(2021, 7, 20), SINOVAC)]),
    Person("late_second", date(1990, 2, 2),
           [(date(2021, 5, 1), SINOVAC), (AS_OF + timedelta(days=9), SINOVAC)]),
    Person("eighteen_tomorrow", AS_OF.replace(year=AS_OF.year - 18) + timedelta(days=1)),
    Person("eighteen_today", AS_OF.replace(year=AS_OF.year - 18)),
    Person("refused", date(1975, 5, 5), status=ResidentStatus.REFUSED),
    Person("contraindicated", date(1950, 5, 5), status=ResidentStatus.CONTRAINDICATED),
    Person("away", date(1995, 5, 5), status=ResidentStatus.AWAY),
    Person("single_dose", date(1980, 1, 1), [(date(2021, 4, 1), CANSINO)]),
    Person("boosted", date(1955, 8, 8),
           [(date(2021, 3, 30), SINOVAC), (date(2021, 4, 25), SINOVAC),
            (date(2021, 7, 1), CANSINO)]),
    Person("only_after_as_of", date(1988, 8, 8), [(AS_OF + timedelta(days=4), SINOVAC)]),
    Person("child", date(2012, 4, 4), [(date(2021, 7, 1), SINOVAC)]),
    Person("other_town", date(1966, 6, 6), [(date(2021, 5, 1), SINOVAC)], town="other_town"),
    Person("not_registered", date(1977, 7, 7), [(date(2021, 5, 1), SINOVAC)], registered=False),
]  # fmt: skip


def expected_coverage(people: list[Person], as_of: date) -> dict[str, int]:
    """The §7 figures, worked out from the fixture's own data."""
    figures = dict.fromkeys(
        ("residents", "adults", "first_dose", "series_complete", "booster", "to_clear",
         "overdue_second"), 0,
    )  # fmt: skip
    for person in people:
        if not person.registered:
            continue
        given = sorted(day_maker for day_maker in person.doses if day_maker[0] <= as_of)
        eighteenth = person.birth.replace(year=person.birth.year + 18)
        adult = eighteenth <= as_of
        series = SERIES[given[0][1]] if given else None
        figures["residents"] += 1
        figures["adults"] += adult
        figures["first_dose"] += bool(given)
        figures["series_complete"] += bool(given) and len(given) >= series
        figures["booster"] += bool(given) and len(given) > series
        excused = person.status in ("away", "contraindicated", "deceased", "moved_out")
        figures["to_clear"] += adult and not given and not excused
        second_latest = given[0][0] + timedelta(days=SECOND_DOSE_LATEST_DAY) if given else None
        figures["overdue_second"] += bool(given) and len(given) < series and second_latest < as_of
    return figures


@pytest.fixture
def registry(tree):
    """The fixture's people registered in their town's grid, and the dose file rows."""
    grids = {"town": tree.grid, "other_town": tree.other_grid}
    numbers, rows = {}, []
    for person in PEOPLE:
        numbers[person.key] = id_number(person.birth)
        if person.registered:
            resident = resident_create(
                name=person.key, id_number=numbers[person.key], grid=grids[person.town]
            )
            Resident.objects.filter(pk=resident.pk).update(status=person.status)
        for number, (day, maker) in enumerate(person.doses, start=1):
            rows.append(
                dose_row(name=person.key, id_number=numbers[person.key], given=day, dose=number,
                         maker=maker)
            )  # fmt: skip
    return numbers, rows


def stored_doses() -> set[tuple]:
    return set(
        Dose.objects.values_list("resident__name", "dose_number", "product__code", "given_on")
    )


def expected_doses() -> set[tuple]:
    codes = {SINOVAC: "coronavac", CANSINO: "ad5-ncov"}
    return {
        (person.key, number, codes[maker], day)
        for person in PEOPLE
        if person.registered
        for number, (day, maker) in enumerate(person.doses, start=1)
    }


def import_json(path) -> dict:
    result = run("import_doses", str(path), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("file_format", FORMATS)
def test_every_format_imports_to_the_same_doses_and_reimport_stores_nothing(
    registry, tmp_path, file_format
):
    _numbers, rows = registry
    path = write_table(tmp_path / "doses", DOSE_HEADERS, rows, file_format)

    first = import_json(path)
    second = import_json(path)

    unregistered = sum(len(p.doses) for p in PEOPLE if not p.registered)
    assert first["rows"] == len(rows)
    assert first["stored"] == len(rows) - unregistered
    assert (first["unchanged"], first["duplicates"], first["rejected"]) == (0, 0, unregistered)
    assert first["error_report"].endswith(".xlsx")
    assert stored_doses() == expected_doses()
    assert second == {**first, "stored": 0, "unchanged": first["stored"],
                      "error_report": second["error_report"]}  # fmt: skip
    assert stored_doses() == expected_doses()


def test_spellings_real_exports_use_are_read_as_the_same_dose(registry, tmp_path):
    numbers, _rows = registry
    full_width = str.maketrans("0123456789X", "０１２３４５６７８９ｘ")
    person = numbers["complete"]
    spelled = [
        dose_row(id_number=person.translate(full_width), given="2021年5月1日", dose="第1针",
                 maker="科兴"),
        dose_row(id_number=f" {person[:6]} {person[6:14]} {person[14:].lower()} ",
                 given="2021/6/1", dose="第2剂", maker=SINOVAC),
        dose_row(id_number=person, given="2021-06-01 10:30:00", dose="2", maker="科兴中维"),
    ]  # fmt: skip
    path = write_table(tmp_path / "spelled", DOSE_HEADERS, spelled, "gb18030")

    summary = import_json(path)

    assert (summary["stored"], summary["duplicates"], summary["rejected"]) == (2, 1, 0)
    assert set(
        Dose.objects.filter(resident__name="complete").values_list("dose_number", "given_on")
    ) == {(1, date(2021, 5, 1)), (2, date(2021, 6, 1))}


def test_json_summary_counts_each_kind_of_row_exactly(registry, tmp_path):
    numbers, rows = registry
    first_rows = rows[:3]
    path = write_table(tmp_path / "first", DOSE_HEADERS, first_rows, "utf-8")
    import_json(path)
    bad_checksum = numbers["refused"][:-1] + ("0" if numbers["refused"][-1] != "0" else "1")
    mixed = [
        *first_rows,  # unchanged ×3
        rows[3],  # stored
        rows[3],  # duplicate
        dose_row(id_number=bad_checksum, given="2021-05-01", dose=1, maker=SINOVAC),  # rejected
        dose_row(id_number=numbers["refused"], given="2030-01-01", dose=1, maker=SINOVAC),
        dose_row(id_number=numbers["refused"], given="2021-05-01", dose=1, maker="辉瑞"),
    ]
    path = write_table(tmp_path / "mixed", DOSE_HEADERS, mixed, "utf-8-sig")

    summary = import_json(path)

    assert summary["rows"] == 8
    assert (summary["stored"], summary["unchanged"], summary["duplicates"]) == (1, 3, 1)
    assert summary["rejected"] == 3


def test_coverage_command_matches_figures_worked_out_from_the_fixture(registry, tree, tmp_path):
    _numbers, rows = registry
    import_json(write_table(tmp_path / "doses", DOSE_HEADERS, rows, "xlsx"))

    town = json.loads(run("coverage", tree.town.code, "--as-of", str(AS_OF), "--json").stdout)
    county = json.loads(run("coverage", tree.county.code, "--as-of", str(AS_OF), "--json").stdout)

    in_town = [p for p in PEOPLE if p.town == "town"]
    assert town == expected_coverage(in_town, AS_OF)
    assert county == expected_coverage(PEOPLE, AS_OF)
    # The fixture exercises what it claims to: these people change the figures.
    assert town["overdue_second"] >= 2 and town["booster"] == 1
    later = json.loads(run("coverage", tree.town.code, "--as-of", "2021-08-20", "--json").stdout)
    assert later == expected_coverage(in_town, date(2021, 8, 20))
    assert later != town


def test_api_coverage_equals_the_command_and_other_towns_get_nothing(
    registry, tree, tmp_path, make_user
):
    _numbers, rows = registry
    import_json(write_table(tmp_path / "doses", DOSE_HEADERS, rows, "utf-8"))
    official = make_user(Role.TOWN_OFFICIAL, tree.town)
    outsider = make_user(Role.TOWN_OFFICIAL, tree.other_town)
    command = json.loads(run("coverage", tree.town.code, "--as-of", str(AS_OF), "--json").stdout)

    def api_as(user):
        token = api_token_create(user=user, name="script")[1]
        return Client().get(
            f"/api/v1/units/{tree.town.code}/coverage",
            {"as_of": str(AS_OF)},
            headers={"authorization": f"Bearer {token}"},
        )

    allowed = api_as(official)
    refused = api_as(outsider)

    assert allowed.status_code == 200
    assert allowed.json() == command
    assert refused.status_code in (403, 404)
    assert "residents" not in refused.content.decode()


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        (None, ".csv", "文件不存在"),
        (b"", ".csv", "文件为空"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ".csv", ""),
        ("姓名,电话\n张三,1\n".encode(), ".csv", "身份证件号码"),
    ],
    ids=["missing", "empty", "not-a-spreadsheet", "no-required-header"],
)
def test_unreadable_files_exit_non_zero_with_a_message(tmp_path, content, suffix, message):
    path = tmp_path / f"doses{suffix}"
    if content is not None:
        path.write_bytes(content)

    result = run("import_doses", str(path), "--json")

    assert result.returncode != 0
    assert result.stdout == ""
    assert message in result.stderr
    assert result.stderr.strip()


def test_resident_file_imports_and_reimport_changes_nothing(tree, tmp_path):
    rows = [
        ["王建国", id_number(date(1961, 2, 3)), "13800001111", tree.grid.code, "", ""],
        ["李兰", id_number(date(1999, 9, 9)).lower(), "", tree.sibling_grid.code, "外出", ""],
        ["赵平", id_number(date(1980, 1, 1)), "", tree.grid.code, "", "无接种意愿"],
        ["张三", "62242419800101123", "", tree.grid.code, "", ""],
        ["李四", id_number(date(1970, 1, 1)), "", "621121999999999", "", ""],
    ]
    path = write_table(tmp_path / "residents", RESIDENT_HEADERS, rows, "gb18030")

    first = json.loads(run("import_residents", str(path), "--json").stdout)
    second = json.loads(run("import_residents", str(path), "--json").stdout)

    assert {k: first[k] for k in ("rows", "stored", "unchanged", "duplicates", "rejected")} == {
        "rows": 5, "stored": 3, "unchanged": 0, "duplicates": 0, "rejected": 2,
    }  # fmt: skip
    assert (second["stored"], second["unchanged"], second["rejected"]) == (0, 3, 2)
    assert Resident.objects.get(name="李兰").status == ResidentStatus.AWAY
    assert Resident.objects.get(name="赵平").unvaccinated_reason == "1"
    assert not VaccinationStatus.objects.exists()
