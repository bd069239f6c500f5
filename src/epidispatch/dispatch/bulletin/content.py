"""The 日通报 bulletin of a snapshot (第N期): what it says (`bulletin_content`), read by the
page and by the two file writers (`docx`, `xlsx`; the chart in `chart`).

Everything is read from the snapshot's own rows (SnapshotFigure, Ranking, the
accountability cases of its ranking rows), never from the live figures or the doses, so a
bulletin says the same thing whenever it is opened.

The documents themselves are in Chinese whatever the interface language: they follow the
government's format and go out on paper and by WeChat as they are.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F, Sum
from django.utils import timezone

from epidispatch.accountability.models import Accountability, Cause
from epidispatch.figures.models import FIGURES, AgeBand
from epidispatch.orgunits.models import OrgUnit

from ..models import (
    Bulletin,
    Ranking,
    RankingGroup,
    RankingMeasure,
    SnapshotFigure,
)
from ..selectors import totals

#: Units below target the summary names one by one; more are only counted there.
SUMMARY_NAMES = 8

GROUP_NAMES = {RankingGroup.TOWNS: "乡镇（街道）", RankingGroup.DEPARTMENTS: "部门"}
MEASURE_NAMES = {RankingMeasure.COVERAGE: "接种率", RankingMeasure.TARGET: "当日任务完成率"}
TABLE_ORDER = (
    (RankingGroup.TOWNS, RankingMeasure.COVERAGE),
    (RankingGroup.TOWNS, RankingMeasure.TARGET),
    (RankingGroup.DEPARTMENTS, RankingMeasure.COVERAGE),
    (RankingGroup.DEPARTMENTS, RankingMeasure.TARGET),
)
COLUMNS = {
    RankingMeasure.COVERAGE: (
        "名次",
        "单位",
        "目标人群（人）",
        "已接种（人）",
        "接种率",
        "当日新增（剂次）",
    ),
    RankingMeasure.TARGET: (
        "名次",
        "单位",
        "当日任务（剂次）",
        "完成（剂次）",
        "完成率",
        "是否完成",
    ),
}


# --- content -------------------------------------------------------------------------


@dataclass(frozen=True)
class FigureLine:
    """One headline figure: a count, or a rate in percent (None: nothing to divide by)."""

    key: str
    label: str
    value: int | Decimal | None
    is_rate: bool = False

    @property
    def text(self) -> str:
        if self.is_rate:
            return percent_text(self.value)
        return str(self.value)


@dataclass(frozen=True)
class RankRow:
    """A unit's place in one ranking, with the snapshot figures the tables show."""

    place: int
    of: int
    tied: bool
    unit_code: str
    unit_name: str
    numerator: int
    denominator: int
    doses_added: int
    bottom: bool

    @property
    def rate(self) -> Decimal | None:
        return percent(self.numerator, self.denominator)

    @property
    def rate_text(self) -> str:
        return percent_text(self.rate)

    @property
    def place_text(self) -> str:
        return f"{self.place}（并列）" if self.tied else str(self.place)

    @property
    def met(self) -> bool:
        return self.numerator >= self.denominator


@dataclass(frozen=True)
class RankingTable:
    group: str
    measure: str
    heading: str
    rows: tuple[RankRow, ...]

    @property
    def key(self) -> str:
        return f"{self.group}:{self.measure}"

    @property
    def measure_label(self) -> str:
        return MEASURE_NAMES[self.measure]

    @property
    def columns(self) -> tuple[str, ...]:
        return COLUMNS[self.measure]

    def cells(self, row: RankRow) -> tuple:
        """A row as the documents print it (counts as numbers, the rest as text)."""
        if self.measure == RankingMeasure.COVERAGE:
            return (
                row.place_text,
                row.unit_name,
                row.denominator,
                row.numerator,
                row.rate_text,
                row.doses_added,
            )
        return (
            row.place_text,
            row.unit_name,
            row.denominator,
            row.numerator,
            row.rate_text,
            "是" if row.met else "否",
        )


@dataclass(frozen=True)
class CandidateLine:
    """A unit proposed for a summons at this snapshot (连续排名靠后)."""

    unit_code: str
    unit_name: str
    measure: str
    streak: int

    @property
    def measure_name(self) -> str:
        return MEASURE_NAMES[self.measure]


@dataclass(frozen=True)
class BulletinContent:
    """Everything a bulletin shows, in its order; built by `bulletin_content`."""

    number: int
    day: date
    cutoff: datetime
    unit_code: str
    unit_name: str
    title: str
    number_text: str
    cutoff_text: str
    issuer: str
    issued_text: str
    summary: str
    figures: tuple[FigureLine, ...]
    tables: tuple[RankingTable, ...]
    below_target: tuple[RankRow, ...]
    candidates: tuple[CandidateLine, ...]
    totals: dict = field(repr=False)

    @property
    def file_stem(self) -> str:
        return f"{self.unit_name}日通报第{self.number}期_{self.day:%Y-%m-%d}"

    def figure(self, key: str) -> FigureLine:
        return next(line for line in self.figures if line.key == key)

    def table(self, group: str, measure: str) -> RankingTable:
        return next(t for t in self.tables if t.group == group and t.measure == measure)

    @property
    def chart_rows(self) -> tuple[RankRow, ...]:
        """The towns by coverage, the chart's bars."""
        return self.table(RankingGroup.TOWNS, RankingMeasure.COVERAGE).rows


def percent(numerator: int, denominator: int) -> Decimal | None:
    """numerator / denominator in percent, two decimals, rounded half up."""
    if not denominator:
        return None
    value = Decimal(numerator * 100) / Decimal(denominator)
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def percent_text(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


def bulletin_content(bulletin: Bulletin, county: OrgUnit) -> BulletinContent:
    """The county's bulletin of this snapshot, read from the snapshot's rows only."""
    snapshot = bulletin.snapshot
    cutoff = timezone.localtime(snapshot.taken_at)
    bands = {band.value: dict.fromkeys(FIGURES, 0) for band in AgeBand}
    doses_added = 0
    for row in SnapshotFigure.objects.filter(snapshot=snapshot, unit=county).values(
        "band", "doses_added", *FIGURES
    ):
        bands[row["band"]] = {name: row[name] for name in FIGURES}
        doses_added += row["doses_added"]
    figures = totals(bands)
    figures["doses_added"] = doses_added

    rankings = list(
        Ranking.objects.filter(snapshot=snapshot, unit__county_code=county.county_code)
        .select_related("unit")
        .order_by("group", "measure", "place", "unit__code")
    )
    added = {
        row["unit_id"]: row["added"]
        for row in SnapshotFigure.objects.filter(
            snapshot=snapshot, unit_id__in={r.unit_id for r in rankings}
        )
        .values("unit_id")
        .annotate(added=Sum("doses_added"))
        .order_by()
    }
    tables = _tables(rankings, added, _area_word(county))
    below = tuple(
        row
        for table in tables
        if table.measure == RankingMeasure.TARGET
        for row in table.rows
        if not row.met
    )
    candidates = tuple(
        CandidateLine(c.unit.code, c.unit.name, c.measure, c.streak)
        for c in Accountability.objects.filter(
            cause=Cause.RANKING_STREAK,
            ranking__snapshot=snapshot,
            unit__county_code=county.county_code,
        )
        .annotate(measure=F("ranking__measure"))
        .select_related("unit")
        .order_by("unit__code", "measure")
    )
    cutoff_text = f"截至{cutoff.month}月{cutoff.day}日{cutoff:%H:%M}"
    return BulletinContent(
        number=bulletin.number,
        day=snapshot.day,
        cutoff=cutoff,
        unit_code=county.code,
        unit_name=county.name,
        title=f"{county.name}新冠病毒疫苗接种工作日通报",
        number_text=f"第{bulletin.number}期",
        cutoff_text=cutoff_text,
        issuer=f"{county.name}新冠肺炎疫情防控工作领导小组办公室",
        issued_text=f"{snapshot.day.year}年{snapshot.day.month}月{snapshot.day.day}日",
        summary=_summary(county, cutoff_text, figures, tables, below, candidates),
        figures=_figure_lines(figures),
        tables=tables,
        below_target=below,
        candidates=candidates,
        totals=figures,
    )


def _area_word(county: OrgUnit) -> str:
    """县 for 通渭县, 区 for 安定区 …: how the bulletin names the whole jurisdiction."""
    return county.name[-1] if county.name and county.name[-1] in "县区市旗" else "县"


def _tables(rankings: list[Ranking], added: dict[int, int], area: str) -> tuple:
    grouped = defaultdict(list)
    for row in rankings:
        grouped[(row.group, row.measure)].append(row)
    headings = {
        (RankingGroup.TOWNS, RankingMeasure.COVERAGE): "各乡镇（街道）接种率排名",
        (RankingGroup.TOWNS, RankingMeasure.TARGET): "各乡镇（街道）当日任务完成情况",
        (RankingGroup.DEPARTMENTS, RankingMeasure.COVERAGE): f"{area}直部门包抓网格接种率排名",
        (RankingGroup.DEPARTMENTS, RankingMeasure.TARGET): f"{area}直部门当日任务完成情况",
    }
    tables = []
    for group, measure in TABLE_ORDER:
        rows = grouped[(group, measure)]
        places = defaultdict(int)
        for row in rows:
            places[row.place] += 1
        tables.append(
            RankingTable(
                group=group,
                measure=measure,
                heading=headings[(group, measure)],
                rows=tuple(
                    RankRow(
                        place=row.place,
                        of=row.of,
                        tied=places[row.place] > 1,
                        unit_code=row.unit.code,
                        unit_name=row.unit_name,
                        numerator=row.numerator,
                        denominator=row.denominator,
                        doses_added=added.get(row.unit_id, 0),
                        bottom=row.bottom,
                    )
                    for row in rows
                ),
            )
        )
    return tuple(tables)


def _figure_lines(f: dict) -> tuple[FigureLine, ...]:
    def rate(key, label, numerator, denominator):
        return FigureLine(key, label, percent(numerator, denominator), is_rate=True)

    return (
        FigureLine("doses", "累计接种（剂次）", f["doses"]),
        FigureLine("doses_added", "当日新增（剂次）", f["doses_added"]),
        FigureLine("target", "目标人群（人）", f["target"]),
        FigureLine("first_dose", "已接种（人）", f["first_dose"]),
        rate("coverage", "接种率", f["covered"], f["target"]),
        FigureLine("series_complete", "全程接种（人）", f["series_complete"]),
        rate("series_rate", "全程接种率", f["series_complete"], f["target"]),
        FigureLine("booster", "加强免疫（人）", f["booster"]),
        FigureLine("sequential_booster", "其中序贯加强（人）", f["sequential_booster"]),
        rate("booster_rate", "加强免疫率", f["booster"], f["target"]),
        FigureLine("seniors_target", "60岁及以上目标人群（人）", f["seniors_target"]),
        FigureLine("seniors_covered", "60岁及以上已接种（人）", f["seniors_covered"]),
        rate("seniors_coverage", "60岁及以上接种率", f["seniors_covered"], f["seniors_target"]),
        FigureLine("seniors_series", "60岁及以上全程接种（人）", f["seniors_series"]),
        FigureLine("seniors_booster", "60岁及以上加强免疫（人）", f["seniors_booster"]),
        FigureLine("to_clear", "待清零（人）", f["to_clear"]),
        FigureLine("adults_to_clear", "其中18岁及以上（人）", f["adults_to_clear"]),
    )


def _names(rows) -> str:
    return "、".join(row.unit_name for row in rows)


def _summary(county, cutoff_text, f, tables, below, candidates) -> str:
    """The bulletin's opening paragraph, in the office's words."""
    area = "全" + _area_word(county)
    rate = percent_text
    parts = [
        f"{cutoff_text}，{area}累计接种新冠病毒疫苗{f['doses']}剂次，"
        f"当日新增{f['doses_added']}剂次；"
        f"已接种{f['first_dose']}人，占目标人群{f['target']}人的"
        f"{rate(percent(f['covered'], f['target']))}；"
        f"全程接种{f['series_complete']}人"
        f"（{rate(percent(f['series_complete'], f['target']))}），"
        f"加强免疫{f['booster']}人（{rate(percent(f['booster'], f['target']))}），"
        f"其中序贯加强免疫{f['sequential_booster']}人。",
        f"60岁及以上目标人群{f['seniors_target']}人，已接种{f['seniors_covered']}人"
        f"（{rate(percent(f['seniors_covered'], f['seniors_target']))}），"
        f"全程接种{f['seniors_series']}人，加强免疫{f['seniors_booster']}人。",
        f"{area}尚有{f['to_clear']}人待清零，其中18岁及以上{f['adults_to_clear']}人。",
    ]
    towns = tables[0].rows
    top = [row for row in towns if row.place <= 3 and not row.bottom]
    bottom = [row for row in towns if row.bottom]
    clauses = [f"接种率排名前列的是{_names(top)}"] if top else []
    clauses += [f"排名靠后的是{_names(bottom)}"] if bottom else []
    if clauses:
        parts.append("各乡镇（街道）中，" + "，".join(clauses) + "。")
    task_rows = tables[1].rows + tables[3].rows
    if task_rows:
        if below:
            listed = _names(below) if len(below) <= SUMMARY_NAMES else "名单见正文"
            parts.append(f"{len(task_rows)}个单位下达了当日任务，{len(below)}个未完成：{listed}。")
        else:
            parts.append(f"{len(task_rows)}个单位下达了当日任务，均已完成。")
    if candidates:
        listed = "、".join(
            f"{c.unit_name}（{c.measure_name}连续{c.streak}期排名靠后）" for c in candidates
        )
        parts.append(f"{listed}，提请启动约谈问责。")
    return "".join(parts)


# --- chart ---------------------------------------------------------------------------


#: matplotlib's settings and font list are process-wide: one chart at a time, so that two
