"""The §7 commands, run as a script would run them: a subprocess on the installed
`epidispatch` console script against the test database."""

import json

import pytest

from epidispatch.demo import generator
from epidispatch.orgunits.models import OrgUnit
from epidispatch.registry.models import Resident

from .cli import EPIDISPATCH, run

pytestmark = pytest.mark.django_db(transaction=True)


def test_console_script_is_installed():
    assert EPIDISPATCH, "the package installs an `epidispatch` console script"


def test_units_json_lists_every_unit_with_its_parent_code(tree):
    result = run("units", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == OrgUnit.objects.count()
    assert rows[0] == {"code": "621100", "name": "定西市", "kind": "city", "parent": None}
    by_code = {row["code"]: row for row in rows}
    assert by_code[tree.grid.code] == {
        "code": tree.grid.code,
        "name": "北关社区第1网格",
        "kind": "grid",
        "parent": tree.village.code,
    }


def test_units_under_a_code_filtered_by_kind(tree):
    result = run("units", "--under", tree.town.code, "--kind", "grid", "--json")
    assert result.returncode == 0, result.stderr
    assert [row["code"] for row in json.loads(result.stdout)] == [
        tree.grid.code,
        tree.sibling_grid.code,
    ]


def test_units_under_an_unknown_code_fails_with_a_clear_message(tree):
    result = run("units", "--under", "629999", "--json")
    assert result.returncode != 0
    assert "629999" in result.stderr
    assert "未知的组织机构编码" in result.stderr
    assert result.stdout == ""


def test_units_with_an_unknown_kind_fails(tree):
    result = run("units", "--kind", "province", "--json")
    assert result.returncode != 0
    assert "province" in result.stderr


def test_load_demo_with_no_residents_gives_the_tree_and_users_alone(db, monkeypatch):
    monkeypatch.setenv("EPIDISPATCH_DEMO", "1")
    result = run("load_demo", "--residents", "0")
    assert result.returncode == 0, result.stderr
    assert "dispatcher" in result.stdout
    grids = json.loads(run("units", "--kind", "grid", "--json").stdout)
    rural_towns = len(generator.TOWNS) - 1
    assert (
        len(grids) == 57 + rural_towns * generator.VILLAGES_PER_TOWN * generator.GRIDS_PER_VILLAGE
    )
    assert not Resident.objects.exists()
