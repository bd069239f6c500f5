"""The org-unit tree: paths, one-query subtrees, moves."""

import pytest
from django.db import connection

from epidispatch.orgunits.models import OrgUnit
from epidispatch.orgunits.services import unit_move

pytestmark = pytest.mark.django_db


def test_path_depth_and_county_code_follow_the_parents(tree):
    assert tree.grid.path == "621100/621121/621121100000/621121100001/621121100001001/"
    assert [tree.city.depth, tree.county.depth, tree.town.depth, tree.grid.depth] == [0, 1, 2, 4]
    assert tree.city.county_code == ""
    assert {tree.county.county_code, tree.grid.county_code, tree.site.county_code} == {"621121"}
    assert tree.far_grid.county_code == "621122"


def test_everything_under_a_unit_is_one_query(tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        codes = set(
            OrgUnit.objects.filter(path__startswith=tree.town.path).values_list("code", flat=True)
        )
    assert codes == {
        tree.town.code,
        tree.village.code,
        tree.grid.code,
        tree.sibling_grid.code,
        tree.site.code,
    }


def test_subtree_query_is_answered_from_the_path_index(tree):
    sql, params = (
        OrgUnit.objects.filter(path__startswith=tree.county.path)
        .values("code")
        .query.sql_with_params()
    )
    with connection.cursor() as cursor:
        # With sequential scans priced out, the plan shows whether the index can serve LIKE.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "orgunit_path_prefix" in plan


def test_moving_a_site_moves_its_path_and_keeps_its_subtree_consistent(tree):
    moved = unit_move(unit=tree.site, new_parent=tree.other_town)
    assert moved.parent_id == tree.other_town.pk
    assert moved.path == f"{tree.other_town.path}{tree.site.code}/"
    assert moved.depth == tree.other_town.depth + 1
    assert not OrgUnit.objects.filter(path__startswith=tree.town.path, code=tree.site.code).exists()


def test_every_stored_path_matches_the_parent_chain(tree):
    unit_move(unit=tree.site, new_parent=tree.county)
    for unit in OrgUnit.objects.select_related("parent"):
        expected = (unit.parent.path if unit.parent else "") + unit.code + "/"
        assert unit.path == expected
        assert unit.depth == (unit.parent.depth + 1 if unit.parent else 0)
