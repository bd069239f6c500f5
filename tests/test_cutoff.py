"""The daily cutoff (日调度): snapshots, rankings, accountability cases, targets."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command

from epidispatch.accountability.models import Accountability, CaseState, Cause
from epidispatch.accountability.services import accountability_decide
from epidispatch.accounts.models import Role
from epidispatch.dispatch.models import (
    Ranking,
    RankingGroup,
    RankingMeasure,
    Snapshot,
    SnapshotFigure,
)
from epidispatch.dispatch.services import snapshot_backfill, snapshot_take, target_issue
from epidispatch.dispatch.tasks import cutoff_task
from epidispatch.figures.rollups import rollups_recount
from epidispatch.figures.tasks import reband_task
from epidispatch.orgunits.models import OrgUnit, UnitKind
from epidispatch.orgunits.services import unit_create
from epidispatch.registry.services import resident_create
from epidispatch.vaccination.models import Dose, VaccineProduct
from epidispatch.vaccination.services import dose_correct, dose_delete

from .dose_files import id_number
from .test_rollups import add_dose

LOCAL = ZoneInfo("Asia/Shanghai")
DAY = date(2021, 8, 6)


def local(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=LOCAL)


def figure(snapshot: Snapshot, unit: OrgUnit, name: str) -> int:
    return sum(
        SnapshotFigure.objects.filter(snapshot=snapshot, unit=unit).values_list(name, flat=True)
    )


def adult(grid, born=date(1980, 1, 1)):
    return resident_create(name="张三", id_number=id_number(born), grid=grid)


@pytest.fixture
def counted(tree):
    rollups_recount(day=DAY)
    return tree


@pytest.mark.django_db
class TestCutoffDay:
    def test_the_day_is_the_local_day_even_just_after_midnight(self, counted):
        # 00:00:30 in Beijing is still the previous day in UTC.
        snapshot = snapshot_take(at=local(DAY, 0, 0, 30))
        assert snapshot.day == DAY

    def test_the_day_is_the_local_day_just_before_midnight(self, counted):
        snapshot = snapshot_take(at=local(DAY, 23, 59, 59))
        assert snapshot.day == DAY

    def test_a_second_cutoff_on_the_same_day_is_refused(self, counted):
        snapshot_take(at=local(DAY, 16))
        with pytest.raises(ValidationError) as refused:
            snapshot_take(at=local(DAY, 23, 59))
        assert refused.value.code == "already_taken"
        assert Snapshot.objects.count() == 1

    def test_a_cutoff_for_a_day_before_the_last_one_is_refused(self, counted):
        snapshot_take(at=local(DAY, 16))
        with pytest.raises(ValidationError):
            snapshot_take(at=local(DAY - timedelta(days=1), 16))

    def test_the_command_takes_todays_snapshot_once(self, counted, capsys):
        call_command("cutoff")
        today = datetime.now(LOCAL).date()
        assert Snapshot.objects.get().day == today
        with pytest.raises(CommandError, match=f"{today}.*截止"):
            call_command("cutoff")


@pytest.mark.django_db
class TestFrozenFigures:
    def test_doses_after_the_cutoff_count_in_the_next_snapshot(self, counted):
        person, other = adult(counted.grid), adult(counted.grid)
        add_dose(person, DAY)
        first = snapshot_take(at=local(DAY, 16))
        add_dose(other, DAY)  # given at 17:00, after the cutoff
        second = snapshot_take(at=local(DAY + timedelta(days=1), 16))
        assert figure(first, counted.town, "doses") == 1
        assert figure(first, counted.town, "doses_added") == 1
        assert figure(second, counted.town, "doses") == 2
        assert figure(second, counted.town, "doses_added") == 1
        assert figure(second, counted.county, "first_dose") == 2

    def test_a_dose_deleted_after_the_cutoff_leaves_the_snapshot_and_moves_the_next(
        self, counted, dispatcher
    ):
        person = adult(counted.grid)
        add_dose(person, DAY)
        first = snapshot_take(at=local(DAY, 16))
        dose_delete(dose=Dose.objects.get(resident=person), by=dispatcher, reason="重复录入")
        second = snapshot_take(at=local(DAY + timedelta(days=1), 16))
        first.refresh_from_db()
        assert figure(first, counted.grid, "first_dose") == 1
        assert figure(first, counted.grid, "to_clear") == 0
        assert figure(second, counted.grid, "first_dose") == 0
        assert figure(second, counted.grid, "to_clear") == 1
        assert figure(second, counted.grid, "doses_added") == -1

    def test_a_dose_corrected_after_the_cutoff_leaves_the_snapshot_and_moves_the_next(
        self, counted, dispatcher
    ):
        person = adult(counted.grid)
        add_dose(person, DAY, code="coronavac")  # first of two
        first = snapshot_take(at=local(DAY, 16))
        dose_correct(
            dose=Dose.objects.get(resident=person),
            given_on=DAY,
            product=VaccineProduct.objects.get(code="ad5-ncov"),  # one dose completes it
            by=dispatcher,
            reason="疫苗品种录错",
        )
        second = snapshot_take(at=local(DAY + timedelta(days=1), 16))
        assert figure(first, counted.county, "series_complete") == 0
        assert figure(second, counted.county, "series_complete") == 1
        assert figure(second, counted.county, "doses_added") == 0

    def test_a_band_that_empties_between_two_cutoffs_adds_no_doses(self, counted):
        # The grid's only 12–17-year-old turns 18 the day after the first cutoff: the
        # band 12–17 has nobody left, and no dose was given that day.
        teenager = adult(counted.grid, born=date(DAY.year - 18, DAY.month, DAY.day + 1))
        add_dose(teenager, DAY - timedelta(days=10))
        first = snapshot_take(at=local(DAY, 16))
        rollups_recount(day=DAY + timedelta(days=1))  # as after a restore: no empty leaves
        second = snapshot_take(at=local(DAY + timedelta(days=1), 16))
        assert SnapshotFigure.objects.get(snapshot=first, unit=counted.grid).band == "12-17"
        for unit in (counted.grid, counted.town, counted.county):
            assert figure(second, unit, "doses") == 1
            assert figure(second, unit, "doses_added") == 0

    def test_a_band_that_empties_between_two_recounted_days_adds_no_doses(self, counted):
        teenager = adult(counted.grid, born=date(DAY.year - 18, DAY.month, DAY.day + 1))
        add_dose(teenager, DAY - timedelta(days=10))
        snapshot_backfill(day=DAY)
        second = snapshot_backfill(day=DAY + timedelta(days=1))
        assert figure(second, counted.town, "doses_added") == 0

    def test_a_unit_added_mid_day_is_in_the_next_snapshot_with_all_its_doses_as_new(self, counted):
        add_dose(adult(counted.grid), DAY - timedelta(days=30))
        first = snapshot_take(at=local(DAY, 16))
        new_grid = unit_create(
            code="621121100001003", name="北关社区第3网格", kind=UnitKind.GRID,
            parent_code=counted.village.code,
        )  # fmt: skip
        add_dose(adult(new_grid), DAY)
        second = snapshot_take(at=local(DAY + timedelta(days=1), 16))
        assert not SnapshotFigure.objects.filter(snapshot=first, unit=new_grid).exists()
        assert figure(second, new_grid, "doses") == 1
        assert figure(second, new_grid, "doses_added") == 1
        assert figure(second, counted.village, "residents") == 2
        assert figure(second, counted.village, "doses_added") == 1


@pytest.mark.django_db
class TestRankings:
    @pytest.fixture
    def third_town(self, counted):
        town = unit_create(
            code="621121103000", name="榜罗镇", kind=UnitKind.TOWN, parent_code="621121"
        )
        village = unit_create(
            code="621121103001", name="文峰村", kind=UnitKind.VILLAGE, parent_code=town.code
        )
        return unit_create(
            code="621121103001001", name="文峰村第1网格", kind=UnitKind.GRID,
            parent_code=village.code,
        )  # fmt: skip

    def test_equal_coverage_shares_a_place_and_the_next_place_is_skipped(self, counted, third_town):
        # 平襄镇 1 of 2 covered, 鸡川镇 1 of 2, 榜罗镇 2 of 2.
        for grid, vaccinated, unvaccinated in (
            (counted.grid, 1, 1),
            (counted.other_grid, 1, 1),
            (third_town, 2, 0),
        ):
            for _ in range(vaccinated):
                add_dose(adult(grid), DAY)
            for _ in range(unvaccinated):
                adult(grid)
        snapshot = snapshot_take(at=local(DAY, 16))
        places = {
            row.unit.name: (row.place, row.of, row.numerator, row.denominator)
            for row in Ranking.objects.filter(
                snapshot=snapshot, group=RankingGroup.TOWNS, measure=RankingMeasure.COVERAGE
            )
        }
        assert places == {"榜罗镇": (1, 3, 2, 2), "平襄镇": (2, 3, 1, 2), "鸡川镇": (2, 3, 1, 2)}

    def test_towns_of_another_county_are_ranked_among_their_own(self, counted):
        adult(counted.far_grid)
        snapshot = snapshot_take(at=local(DAY, 16))
        far = Ranking.objects.get(snapshot=snapshot, unit=counted.far_town, measure="coverage")
        assert (far.place, far.of) == (1, 1)

    def test_target_completion_is_doses_since_the_last_cutoff_over_the_quota(
        self, counted, dispatcher
    ):
        add_dose(adult(counted.grid), DAY - timedelta(days=1))
        snapshot_take(at=local(DAY - timedelta(days=1), 16))
        target_issue(
            unit=counted.town, day=DAY, doses=4, by=dispatcher,
            at=local(DAY - timedelta(days=1), 19, 59),
        )  # fmt: skip
        target_issue(
            unit=counted.other_town, day=DAY, doses=2, by=dispatcher,
            at=local(DAY - timedelta(days=1), 20, 1),
        )  # fmt: skip
        for _ in range(2):
            add_dose(adult(counted.grid), DAY)
        add_dose(adult(counted.other_grid), DAY)
        snapshot = snapshot_take(at=local(DAY, 16))
        rows = {
            row.unit_id: (row.numerator, row.denominator, row.place)
            for row in Ranking.objects.filter(snapshot=snapshot, measure=RankingMeasure.TARGET)
        }
        # Both reached half their quota: a tie.
        assert rows == {counted.town.pk: (2, 4, 1), counted.other_town.pk: (1, 2, 1)}

    def test_units_without_a_target_population_are_not_ranked_by_coverage(self, counted):
        adult(counted.grid)
        snapshot = snapshot_take(at=local(DAY, 16))
        ranked = set(
            Ranking.objects.filter(snapshot=snapshot, measure="coverage").values_list(
                "unit__name", flat=True
            )
        )
        assert ranked == {"平襄镇"}


@pytest.mark.django_db
class TestTargets:
    def test_a_target_issued_after_20_is_kept_and_flagged_late(self, counted, dispatcher):
        on_time = target_issue(
            unit=counted.town, day=DAY, doses=50, by=dispatcher,
            at=local(DAY - timedelta(days=1), 19, 59, 59),
        )  # fmt: skip
        late = target_issue(
            unit=counted.other_town, day=DAY, doses=30, by=dispatcher,
            at=local(DAY - timedelta(days=1), 20, 0, 1),
        )  # fmt: skip
        assert (on_time.late, late.late) == (False, True)

    def test_reissuing_replaces_the_quota(self, counted, dispatcher):
        at = local(DAY - timedelta(days=1), 18)
        target_issue(unit=counted.town, day=DAY, doses=50, by=dispatcher, at=at)
        target = target_issue(unit=counted.town, day=DAY, doses=60, by=dispatcher, at=at)
        assert target.doses == 60

    def test_only_a_dispatcher_of_the_jurisdiction_issues_targets(self, counted, make_user):
        official = make_user(Role.TOWN_OFFICIAL, counted.town)
        far_dispatcher = make_user(Role.DISPATCHER, counted.other_county)
        for user in (official, far_dispatcher):
            with pytest.raises(PermissionDenied):
                target_issue(unit=counted.town, day=DAY, doses=5, by=user, at=local(DAY, 8))

    def test_targets_go_to_towns_and_departments_only(self, counted, dispatcher):
        with pytest.raises(ValidationError):
            target_issue(unit=counted.grid, day=DAY, doses=5, by=dispatcher, at=local(DAY, 8))
        target_issue(unit=counted.department, day=DAY, doses=5, by=dispatcher, at=local(DAY, 8))

    def test_a_frozen_day_takes_no_more_targets(self, counted, dispatcher):
        snapshot_take(at=local(DAY, 16))
        with pytest.raises(ValidationError):
            target_issue(unit=counted.town, day=DAY, doses=5, by=dispatcher, at=local(DAY, 17))


@pytest.mark.django_db
class TestAccountability:
    @pytest.fixture
    def lagging(self, counted, settings):
        """平襄镇 lags 鸡川镇 at every cutoff; the bottom 1 for 2 cutoffs is a candidate."""
        settings.EPIDISPATCH_BOTTOM_N = 1
        settings.EPIDISPATCH_BOTTOM_STREAK = 2
        adult(counted.grid)
        add_dose(adult(counted.other_grid), DAY - timedelta(days=30))
        return counted

    def snapshots(self, days: int):
        return [snapshot_take(at=local(DAY + timedelta(days=n), 16)) for n in range(days)]

    def test_bottom_for_k_consecutive_snapshots_proposes_a_summons_every_k(self, lagging):
        _first, second, _third, fourth = self.snapshots(4)
        cases = Accountability.objects.filter(
            cause=Cause.RANKING_STREAK, ranking__measure="coverage"
        ).order_by("ranking__snapshot__day")
        assert [(c.cause_object.snapshot, c.unit, c.streak, c.kind) for c in cases] == [
            (second, lagging.town, 2, "summons"),
            (fourth, lagging.town, 4, "summons"),
        ]
        assert {c.cause_object.measure for c in cases} == {"coverage"}

    def test_a_break_in_the_streak_starts_the_count_again(self, lagging):
        self.snapshots(1)  # 平襄镇 0/1, 鸡川镇 1/1
        for _ in range(2):
            add_dose(adult(lagging.grid), DAY)
        adult(lagging.other_grid)
        snapshot_take(at=local(DAY + timedelta(days=1), 16))  # 平襄镇 2/3, 鸡川镇 1/2
        adult(lagging.grid), adult(lagging.grid)
        snapshot_take(at=local(DAY + timedelta(days=2), 16))  # 平襄镇 2/5, 鸡川镇 1/2
        bottoms = Ranking.objects.filter(measure="coverage", place=2).order_by("snapshot__day")
        assert [row.unit for row in bottoms] == [lagging.town, lagging.other_town, lagging.town]
        assert not Accountability.objects.exists()

    def test_the_dispatcher_confirms_a_summons_once(self, lagging, dispatcher, make_user):
        self.snapshots(2)
        case = Accountability.objects.get()
        with pytest.raises(PermissionDenied):
            accountability_decide(
                case=case, confirm=True, by=make_user(Role.LEADER, lagging.county)
            )
        decided = accountability_decide(case=case, confirm=True, by=dispatcher, note="约谈")
        assert (decided.state, decided.decided_by) == (CaseState.DECIDED, dispatcher)
        with pytest.raises(ValidationError):
            accountability_decide(case=case, confirm=False, by=dispatcher)
        assert [e.state for e in case.events.all()] == [CaseState.PROPOSED, CaseState.DECIDED]


@pytest.mark.django_db
class TestScheduledTasks:
    def test_the_cutoff_task_runs_at_the_configured_local_time(self):
        cutoff, reband = cutoff_task.task_class(), reband_task.task_class()
        assert cutoff.validate_datetime(datetime(2021, 8, 6, 16, 0))
        assert not cutoff.validate_datetime(datetime(2021, 8, 6, 15, 0))
        assert reband.validate_datetime(datetime(2021, 8, 6, 0, 1))

    def test_the_cutoff_task_takes_the_snapshot_and_tolerates_one_taken_by_hand(self, counted):
        cutoff_task.call_local()
        cutoff_task.call_local()
        assert Snapshot.objects.count() == 1


@pytest.mark.django_db
class TestWhoFreezes:
    def test_the_first_cutoff_counts_that_days_doses_not_the_whole_history(self, counted):
        add_dose(adult(counted.grid), DAY - timedelta(days=40))
        add_dose(adult(counted.grid), DAY)
        snapshot = snapshot_take(at=local(DAY, 16))
        assert figure(snapshot, counted.county, "doses") == 2
        assert figure(snapshot, counted.county, "doses_added") == 1

    def test_by_hand_only_a_dispatcher_of_every_county(self, counted, dispatcher, make_user):
        for user in (dispatcher, make_user(Role.LEADER, counted.city)):
            with pytest.raises(PermissionDenied):
                snapshot_take(at=local(DAY, 16), by=user)
        city_dispatcher = make_user(Role.DISPATCHER, counted.city)
        assert snapshot_take(at=local(DAY, 16), by=city_dispatcher).taken_by == city_dispatcher
