"""Dispatch's ranking candidates move into the one accountability record with their data:
the decision, who took it, the note and the history survive the migration."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("dispatch", "0002_responsibility_to_orgunits"), ("accountability", "0001_initial")]
AFTER = [("dispatch", "0003_candidates_to_accountability")]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_candidates_become_accountability_cases_with_their_decision_and_history():
    old = migrate(BEFORE)
    OrgUnit = old.get_model("orgunits", "OrgUnit")
    User = old.get_model("accounts", "User")
    Snapshot = old.get_model("dispatch", "Snapshot")
    Ranking = old.get_model("dispatch", "Ranking")
    Candidate = old.get_model("dispatch", "AccountabilityCandidate")
    city = OrgUnit.objects.create(
        code="621100", name="定西市", kind="city", path="621100/", depth=0
    )
    county = OrgUnit.objects.create(
        code="621121",
        name="通渭县",
        kind="county",
        parent=city,
        path="621100/621121/",
        depth=1,
        county_code="621121",
    )
    town = OrgUnit.objects.create(
        code="621121100000",
        name="平襄镇",
        kind="town",
        parent=county,
        path="621100/621121/621121100000/",
        depth=2,
        county_code="621121",
    )
    dispatcher = User.objects.create(username="office")
    taken = datetime(2021, 8, 6, 16, 0, tzinfo=SHANGHAI)
    snapshot = Snapshot.objects.create(day=date(2021, 8, 6), taken_at=taken)
    for measure in ("coverage", "target"):
        Ranking.objects.create(
            snapshot=snapshot,
            group="towns",
            measure=measure,
            unit=town,
            numerator=1,
            denominator=2,
            rate=0.5,
            place=2,
            of=2,
            unit_name="平襄镇",
            bottom=True,
        )
    decided = datetime(2021, 8, 7, 9, 0, tzinfo=SHANGHAI)
    Candidate.objects.create(
        snapshot=snapshot,
        unit=town,
        measure="coverage",
        streak=3,
        state="confirmed",
        decided_by=dispatcher,
        decided_at=decided,
        note="明日约谈",
    )
    Candidate.objects.create(snapshot=snapshot, unit=town, measure="target", streak=3)

    new = migrate(AFTER)
    Accountability = new.get_model("accountability", "Accountability")
    NewRanking = new.get_model("dispatch", "Ranking")
    cases = {
        NewRanking.objects.get(pk=case.cause_id).measure: case
        for case in Accountability.objects.all()
    }
    confirmed, pending = cases["coverage"], cases["target"]
    assert (confirmed.state, confirmed.decided_by_id, confirmed.decision, confirmed.decided_at) == (
        "decided",
        dispatcher.pk,
        "明日约谈",
        decided,
    )
    assert (confirmed.cause, confirmed.kind, confirmed.streak, confirmed.unit_id) == (
        "ranking_streak",
        "summons",
        3,
        town.pk,
    )
    assert confirmed.summary == "目标人群接种率连续3期排名靠后"
    assert [e.state for e in confirmed.events.order_by("at")] == ["proposed", "decided"]
    assert pending.state == "proposed" and pending.created_at == taken
    assert [e.state for e in pending.events.all()] == ["proposed"]
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
