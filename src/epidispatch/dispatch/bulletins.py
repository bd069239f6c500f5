"""The 日通报 bulletin of a snapshot (第N期): its content, its .docx and its .xlsx.

Everything is read from the snapshot's own rows (SnapshotFigure, Ranking, the
accountability cases of its ranking rows), never from the live figures or the doses, so a
bulletin says the same thing whenever it is opened. The files are byte-identical too: their
timestamps are the snapshot's, the zip entries are rewritten in a fixed order with a fixed date, and
the chart PNG carries no software or time metadata. An office can hash last month's
bulletin and get the hash it filed.

The documents themselves are in Chinese whatever the interface language: they follow the
government's format and go out on paper and by WeChat as they are.
"""

import io
import logging
import re
import shutil
import subprocess
import threading
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

from django.db.models import F, Sum
from django.utils import timezone

from epidispatch.accountability.models import Accountability, Cause
from epidispatch.core.exports import safe_text
from epidispatch.orgunits.models import OrgUnit

from .models import (
    FIGURES,
    AgeBand,
    Bulletin,
    Ranking,
    RankingGroup,
    RankingMeasure,
    SnapshotFigure,
)
from .selectors import totals

log = logging.getLogger(__name__)

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: CJK fonts the chart may use, best first (matplotlib family names).
CJK_FAMILIES = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "AR PL UMing CN",
)

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
#: requests rendering at once never draw with each other's (or the default) font.
_CHART_LOCK = threading.Lock()


@cache
def cjk_font_path() -> str | None:
    """A font file with Chinese glyphs for the chart: a known family matplotlib has
    indexed, else the first font fontconfig lists for Chinese; None when there is none."""
    from matplotlib import font_manager

    by_family = {}
    for entry in font_manager.fontManager.ttflist:
        by_family.setdefault(entry.name, entry.fname)
    for family in CJK_FAMILIES:
        if family in by_family and Path(by_family[family]).exists():
            return by_family[family]
    if shutil.which("fc-list"):
        listed = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, check=False
        ).stdout
        files = sorted(line.strip().rstrip(":") for line in listed.splitlines() if line.strip())
        for name in files:
            if name.lower().endswith((".ttf", ".ttc", ".otf")) and Path(name).exists():
                return name
    return None


def chart_png(content: BulletinContent) -> bytes | None:
    """Horizontal bars of the towns' coverage, best at the top, the bottom N in red.
    None when no town is ranked or no CJK font is installed (the bulletin then goes out
    without its chart rather than with boxes for names)."""
    rows = content.chart_rows
    if not rows:
        return None
    font = cjk_font_path()
    if font is None:
        log.warning("no CJK font found (install fonts-wqy-microhei); bulletin chart left out")
        return None
    with _CHART_LOCK:
        return _render_chart(content, rows, font)


def _render_chart(content: BulletinContent, rows, font: str) -> bytes:
    import matplotlib
    from matplotlib import font_manager
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    font_manager.fontManager.addfont(font)
    family = font_manager.FontProperties(fname=font).get_name()
    style = {
        "font.family": "sans-serif",
        "font.sans-serif": [family, "DejaVu Sans"],
        "axes.unicode_minus": False,
    }
    with matplotlib.rc_context(style):
        figure = Figure(figsize=(6.3, max(2.4, 0.3 * len(rows) + 1.3)), dpi=150)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        ordered = list(reversed(rows))
        values = [float(row.rate or 0) for row in ordered]
        colours = ["#b3261e" if row.bottom else "#0b5cad" for row in ordered]
        positions = range(len(ordered))
        bars = axes.barh(positions, values, color=colours)
        axes.set_yticks(positions, labels=[row.unit_name for row in ordered])
        axes.bar_label(bars, labels=[row.rate_text for row in ordered], padding=3, fontsize=8)
        axes.set_xlim(0, max(110, max(values) * 1.12))
        axes.set_xlabel("接种率（%）")
        axes.set_title(f"各乡镇（街道）接种率（{content.cutoff_text}）", fontsize=11)
        axes.spines[["top", "right"]].set_visible(False)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


# --- files ---------------------------------------------------------------------------

_CORE_DATES = re.compile(
    rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)",
)


def _fixed_package(data: bytes, moment: datetime) -> bytes:
    """Rewrite an OOXML zip so that the same content always gives the same bytes: the
    core properties' dates set to `moment`, entries in a fixed order with its date."""
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    local = timezone.localtime(moment)
    date_time = (local.year, local.month, local.day, local.hour, local.minute, 0)
    output = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        names = sorted(source.namelist(), key=lambda n: (n != "[Content_Types].xml", n))
        for name in names:
            payload = source.read(name)
            if name == "docProps/core.xml":
                payload = _CORE_DATES.sub(lambda m: m.group(1) + stamp + m.group(3), payload)
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            target.writestr(info, payload, compresslevel=6)
    return output.getvalue()


def _utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def bulletin_docx(content: BulletinContent) -> bytes:
    """The bulletin as a Word document: title, number, summary, figures, chart, tables."""
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt, RGBColor

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin = section.bottom_margin = Cm(2.5)
    section.left_margin = section.right_margin = Cm(2.4)
    normal = document.styles["Normal"]
    _font(normal, "仿宋", Pt(12))
    normal.paragraph_format.space_after = Pt(4)

    def paragraph(text="", *, align=None, size=None, bold=False, face=None, colour=None):
        block = document.add_paragraph()
        if align is not None:
            block.alignment = align
        if text:
            run = block.add_run(text)
            run.bold = bold
            _font(run, face, size)
            if colour:
                run.font.color.rgb = colour
        return block

    def heading(text):
        paragraph(text, size=Pt(14), face="黑体")

    red = RGBColor(0xB3, 0x26, 0x1E)
    paragraph(
        content.title,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        size=Pt(20),
        bold=True,
        face="宋体",
        colour=red,
    )
    paragraph(content.number_text, align=WD_ALIGN_PARAGRAPH.CENTER, size=Pt(14))
    paragraph(
        f"{content.issuer}　　　　{content.issued_text}",
        align=WD_ALIGN_PARAGRAPH.CENTER,
        size=Pt(11),
    )
    summary = paragraph(content.summary)
    summary.paragraph_format.first_line_indent = Pt(24)

    heading("一、总体情况")
    table = document.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _row(table.rows[0], ("指标", "数值"), bold=True)
    for line in content.figures:
        _row(table.add_row(), (line.label, line.text))

    for index, ranking in enumerate(content.tables):
        heading(f"{'二三四五'[index]}、{ranking.heading}")
        if index == 0:
            png = chart_png(content)
            if png:
                document.add_picture(io.BytesIO(png), width=Cm(16))
                document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
        if not ranking.rows:
            paragraph(
                "本期无排名。"
                if ranking.measure == RankingMeasure.COVERAGE
                else "本期未下达当日任务。"
            )
            continue
        table = document.add_table(rows=1, cols=len(ranking.columns))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        _row(table.rows[0], ranking.columns, bold=True)
        for row in ranking.rows:
            _row(table.add_row(), ranking.cells(row))

    heading("六、未完成当日任务的单位")
    if content.below_target:
        paragraph(
            "；".join(
                f"{row.unit_name}（任务{row.denominator}剂次，完成{row.numerator}剂次，"
                f"{row.rate_text}）"
                for row in content.below_target
            )
            + "。"
        )
    else:
        paragraph("无。")

    heading("七、连续排名靠后的单位")
    if content.candidates:
        table = document.add_table(rows=1, cols=3)
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        _row(table.rows[0], ("单位", "排名指标", "连续靠后（期）"), bold=True)
        for candidate in content.candidates:
            _row(table.add_row(), (candidate.unit_name, candidate.measure_name, candidate.streak))
        paragraph("以上单位提请启动约谈问责。")
    else:
        paragraph("无。")

    properties = document.core_properties
    properties.title = f"{content.title} {content.number_text}"
    properties.subject = content.cutoff_text
    properties.author = content.issuer
    properties.last_modified_by = content.issuer
    properties.revision = 1
    properties.comments = ""
    properties.created = properties.modified = _utc_naive(content.cutoff)
    buffer = io.BytesIO()
    document.save(buffer)
    return _fixed_package(buffer.getvalue(), content.cutoff)


def _font(target, face: str | None, size) -> None:
    """Set a run's or style's font, the East Asian face included (Word picks the face
    of Chinese text from w:eastAsia, not from the Latin name)."""
    from docx.oxml.ns import qn

    if size is not None:
        target.font.size = size
    if face is None:
        return
    target.font.name = face
    properties = target.element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = properties.makeelement(qn("w:rFonts"), {})
        properties.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), face)


def _row(row, values, *, bold: bool = False) -> None:
    from docx.shared import Pt

    for cell, value in zip(row.cells, values, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(str(value))
        run.bold = bold
        run.font.size = Pt(10.5)


def bulletin_xlsx(content: BulletinContent) -> bytes:
    """The bulletin as a workbook: the figures, then one sheet per ranking (the towns'
    coverage with a bar chart), units below target and candidates for a summons."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Alignment, Font

    bold = Font(bold=True)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "汇总"
    sheet.append([safe_text(f"{content.title} {content.number_text}")])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([safe_text(content.cutoff_text), safe_text(content.issuer)])
    sheet.append([safe_text(content.summary)])
    sheet.merge_cells("A3:D3")
    sheet["A3"].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.row_dimensions[3].height = 150
    sheet.append([])
    sheet.append(["指标", "数值"])
    for cell in sheet[5]:
        cell.font = bold
    for line in content.figures:
        value = line.value
        if line.is_rate and value is not None:
            value = float(value / 100)
        sheet.append([line.label, value])
        if line.is_rate:
            sheet.cell(row=sheet.max_row, column=2).number_format = "0.00%"
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 16

    for ranking in content.tables:
        ranked = workbook.create_sheet(f"{GROUP_NAMES[ranking.group]}{ranking.measure_label}")
        ranked.append(list(ranking.columns))
        for cell in ranked[1]:
            cell.font = bold
        for row in ranking.rows:
            cells = list(ranking.cells(row))
            cells[4] = float(row.rate / 100) if row.rate is not None else None
            ranked.append([safe_text(value) for value in cells])
            ranked.cell(row=ranked.max_row, column=5).number_format = "0.00%"
        ranked.column_dimensions["B"].width = 24
        for column in "CDEF":
            ranked.column_dimensions[column].width = 16
        if ranking.key == "towns:coverage" and ranking.rows:
            chart = BarChart()
            chart.type = "bar"
            chart.title = "各乡镇（街道）接种率"
            chart.y_axis.number_format = "0%"
            chart.legend = None
            last = len(ranking.rows) + 1
            chart.add_data(Reference(ranked, min_col=5, min_row=1, max_row=last), True)
            chart.set_categories(Reference(ranked, min_col=2, min_row=2, max_row=last))
            chart.height = max(7.5, 0.6 * len(ranking.rows) + 3)
            ranked.add_chart(chart, "H2")

    below = workbook.create_sheet("未完成当日任务")
    below.append(["单位", "当日任务（剂次）", "完成（剂次）", "完成率"])
    for cell in below[1]:
        cell.font = bold
    for row in content.below_target:
        rate = float(row.rate / 100) if row.rate is not None else None
        below.append([safe_text(row.unit_name), row.denominator, row.numerator, rate])
        below.cell(row=below.max_row, column=4).number_format = "0.00%"
    below.column_dimensions["A"].width = 24

    streaks = workbook.create_sheet("连续排名靠后")
    streaks.append(["单位", "排名指标", "连续靠后（期）"])
    for cell in streaks[1]:
        cell.font = bold
    for candidate in content.candidates:
        streaks.append([safe_text(candidate.unit_name), candidate.measure_name, candidate.streak])
    streaks.column_dimensions["A"].width = 24

    properties = workbook.properties
    properties.title = f"{content.title} {content.number_text}"
    properties.creator = properties.lastModifiedBy = content.issuer
    properties.created = properties.modified = _utc_naive(content.cutoff)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _fixed_package(buffer.getvalue(), content.cutoff)
