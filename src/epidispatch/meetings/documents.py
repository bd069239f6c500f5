"""The meeting's documents: the pack (会议材料) and the minutes (会议纪要, numbered) as
`.docx`, the open action items (督办事项清单) as `.xlsx`.

Like the bulletin they are in Chinese whatever the interface language: they follow the
government's format and go out on paper and by WeChat as they are.
"""

import io
from datetime import datetime

from django.utils import timezone, translation
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from epidispatch.core.exports import write_xlsx

from .models import ActionItem, Meeting
from .pack import MeetingPack

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RED = RGBColor(0xB3, 0x26, 0x1E)
NUMERALS = "一二三四五六七八九十"


def _moment(value: datetime | None) -> str:
    if value is None:
        return "—"
    local = timezone.localtime(value)
    return f"{local.year}年{local.month}月{local.day}日{local:%H:%M}"


def _day(value) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def office_name(meeting: Meeting) -> str:
    return f"{meeting.unit.name}新冠肺炎疫情防控工作领导小组办公室"


def minutes_number_text(meeting: Meeting) -> str:
    return f"〔{timezone.localtime(meeting.held_at).year}〕第{meeting.minutes_number}号"


class _Writer:
    """A Word document in the office's format: 仿宋 body, 黑体 headings, tables with grid."""

    def __init__(self):
        self.document = Document()
        section = self.document.sections[0]
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.top_margin = section.bottom_margin = Cm(2.5)
        section.left_margin = section.right_margin = Cm(2.4)
        normal = self.document.styles["Normal"]
        self._font(normal, "仿宋", Pt(12))
        normal.paragraph_format.space_after = Pt(4)
        self.headings = 0

    @staticmethod
    def _font(target, face, size) -> None:
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

    def paragraph(self, text="", *, center=False, size=None, bold=False, face=None, colour=None):
        block = self.document.add_paragraph()
        if center:
            block.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if text:
            run = block.add_run(text)
            run.bold = bold
            self._font(run, face, size)
            if colour is not None:
                run.font.color.rgb = colour
        return block

    def heading(self, text: str) -> None:
        self.paragraph(f"{NUMERALS[self.headings]}、{text}", size=Pt(14), face="黑体")
        self.headings += 1

    def table(self, columns, rows) -> None:
        rows = list(rows)
        if not rows:
            self.paragraph("无。")
            return
        table = self.document.add_table(rows=1, cols=len(columns))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        self._row(table.rows[0], columns, bold=True)
        for row in rows:
            self._row(table.add_row(), row)

    @staticmethod
    def _row(row, values, *, bold=False) -> None:
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = ""
            run = cell.paragraphs[0].add_run("" if value is None else str(value))
            run.bold = bold
            run.font.size = Pt(10.5)

    def save(self, title: str, author: str, moment: datetime) -> bytes:
        properties = self.document.core_properties
        properties.title = title
        properties.author = author
        properties.last_modified_by = author
        properties.created = properties.modified = timezone.localtime(moment).replace(tzinfo=None)
        buffer = io.BytesIO()
        self.document.save(buffer)
        return buffer.getvalue()


def _header(writer: _Writer, meeting: Meeting, subtitle: str) -> None:
    writer.paragraph(meeting.title, center=True, size=Pt(20), bold=True, face="宋体", colour=RED)
    writer.paragraph(subtitle, center=True, size=Pt(14))
    facts = [f"时间：{_moment(meeting.held_at)}"]
    if meeting.main_venue:
        facts.append(f"主会场：{meeting.main_venue}")
    if meeting.sub_venue_list:
        facts.append(f"分会场：{'、'.join(meeting.sub_venue_list)}")
    if meeting.chair:
        facts.append(f"主持：{meeting.chair}")
    names = [unit.name for unit in meeting.participants.all()]
    if names:
        facts.append(f"参会单位：{'、'.join(names)}")
    for fact in facts:
        writer.paragraph(fact)


def _owner_deadline(item: ActionItem) -> tuple:
    return (item.owner_name, item.deadline.isoformat())


def pack_docx(pack: MeetingPack) -> bytes:
    """The pack as a Word document, its sections in the order of the meeting."""
    with translation.override("zh-hans"):
        return _pack_docx(pack)


def _pack_docx(pack: MeetingPack) -> bytes:
    meeting = pack.meeting
    writer = _Writer()
    _header(writer, meeting, "会议材料")
    since = _moment(pack.since) if pack.previous else "本系列首次会议"
    writer.paragraph(
        f"统计区间：{since} 至 {_moment(pack.until)}"
        + (f"（上次会议：{pack.previous.title}）" if pack.previous else "")
    )

    writer.heading("工作进展及排名情况")
    if pack.bulletin is not None:
        writer.paragraph(f"{pack.bulletin.number_text}日通报，{pack.bulletin.cutoff_text}。")
        writer.paragraph(pack.bulletin.summary)
        writer.table(("指标", "数值"), ((line.label, line.text) for line in pack.bulletin.figures))
    else:
        writer.paragraph("本次会议未关联日调度截止数据。")
    for key, rows in pack.rankings.items():
        writer.paragraph(RANKING_HEADINGS.get(key, key), bold=True)
        writer.table(
            ("名次", "单位", "完成率", "较上次会议", "是否靠后"),
            (
                (
                    f"{row.place}/{row.of}",
                    row.unit_name,
                    row.rate_text,
                    row.moved_text,
                    "是" if row.bottom else "",
                )
                for row in rows
            ),
        )

    writer.heading("包联领导分片情况")
    writer.table(
        ("包联领导", "乡镇（街道）", "接种率排名", "未整改问题"),
        (
            (
                f"{line.leader}{('（' + line.title + '）') if line.title else ''}",
                town,
                f"{rank.place}/{rank.of}（{rank.rate_text}）" if rank else "—",
                problems,
            )
            for line in pack.leaders
            for town, rank, problems in line.towns
        ),
    )

    writer.heading("督导检查发现问题及整改落实情况")
    writer.paragraph(
        f"上次会议以来新发现问题{len(pack.problems_opened)}个，整改验收{len(pack.problems_closed)}个；"
        f"目前未整改到位{len(pack.problems_open)}个，其中逾期{len(pack.problems_overdue)}个。"
    )
    writer.table(
        ("场所", "问题", "责任单位", "整改时限", "状态"),
        (
            (
                p.place.name,
                p.description,
                p.responsible_unit.name,
                _moment(p.deadline),
                "逾期" if p.deadline < pack.until else "整改中",
            )
            for p in pack.problems_open
        ),
    )

    writer.heading("约谈问责情况")
    writer.table(
        ("单位", "措施", "原因", "状态"),
        (
            (case.unit.name, case.get_kind_display(), case.summary, case.get_state_display())
            for case in pack.cases
        ),
    )

    writer.heading("督办事项落实情况")
    writer.paragraph(
        f"未办结督办事项{len(pack.items_open)}项，其中逾期{len(pack.items_overdue)}项；"
        f"上次会议以来办结{len(pack.items_closed)}项。"
    )
    day = timezone.localtime(pack.until).date()
    writer.table(
        ("来源", "事项", "责任单位", "办结时限", "状态"),
        (
            (
                item.meeting.title,
                item.decision,
                *_owner_deadline(item),
                "逾期" if item.deadline < day else item.get_state_display(),
            )
            for item in pack.items_open
        ),
    )

    writer.heading("各单位汇报情况")
    writer.paragraph(
        f"应汇报{len(pack.reports)}个单位，已汇报{len(pack.reports_received)}个"
        f"（其中逾期报送{len(pack.reports_late)}个），未汇报{len(pack.reports_missing)}个。"
    )
    writer.table(
        ("单位", "报送时间", "工作进展", "存在困难", "下步措施"),
        (
            (
                report.unit.name + ("（逾期）" if report.late else ""),
                _moment(report.submitted_at) if report.submitted_at else "未报送",
                report.progress,
                report.difficulties,
                report.next_measures,
            )
            for report in pack.reports
        ),
    )
    return writer.save(f"{meeting.title}会议材料", office_name(meeting), meeting.held_at)


RANKING_HEADINGS = {
    "towns:coverage": "各乡镇（街道）接种率排名",
    "towns:target": "各乡镇（街道）当日任务完成情况",
    "departments:coverage": "部门包抓网格接种率排名",
    "departments:target": "部门当日任务完成情况",
}


def minutes_docx(meeting: Meeting, decisions: list[ActionItem], summoned) -> bytes:
    """The minutes (会议纪要), numbered: who met, the decisions with owners and deadlines,
    and who was called in, why, and what they pledged."""
    with translation.override("zh-hans"):
        return _minutes_docx(meeting, decisions, summoned)


def _minutes_docx(meeting: Meeting, decisions: list[ActionItem], summoned) -> bytes:
    writer = _Writer()
    writer.paragraph(
        f"{office_name(meeting)}会议纪要",
        center=True,
        size=Pt(20),
        bold=True,
        face="宋体",
        colour=RED,
    )
    writer.paragraph(minutes_number_text(meeting), center=True, size=Pt(14))
    writer.paragraph(meeting.title, center=True, size=Pt(16), bold=True)
    for fact in (
        f"时间：{_moment(meeting.held_at)}",
        f"主会场：{meeting.main_venue or '—'}",
        f"分会场：{'、'.join(meeting.sub_venue_list) or '—'}",
        f"主持：{meeting.chair or '—'}",
        f"参会单位：{'、'.join(unit.name for unit in meeting.participants.all()) or '—'}",
    ):
        writer.paragraph(fact)
    writer.heading("会议议定事项")
    if decisions:
        for item in decisions:
            block = writer.paragraph(f"{item.number}. {item.decision}")
            block.paragraph_format.first_line_indent = Pt(24)
            writer.paragraph(
                f"责任单位：{item.owner_name}；办结时限：{_day(item.deadline)}"
                + (f"；佐证材料：{item.evidence_required}" if item.evidence_required else "")
            )
    else:
        writer.paragraph("无。")
    writer.heading("约谈及表态发言")
    writer.table(
        ("单位", "约谈对象", "约谈原因", "表态发言", "承诺时限"),
        (
            (
                case.unit.name,
                case.persons or "—",
                case.summary,
                case.pledge or "—",
                _day(case.pledge_deadline) if case.pledge_deadline else "—",
            )
            for case in summoned
        ),
    )
    writer.paragraph("")
    writer.paragraph(office_name(meeting))
    writer.paragraph(_day(timezone.localtime(meeting.held_at)))
    return writer.save(
        f"会议纪要{minutes_number_text(meeting)}", office_name(meeting), meeting.held_at
    )


ITEM_COLUMNS = [
    "序号",
    "来源会议",
    "督办事项",
    "责任单位",
    "办结时限",
    "佐证材料",
    "状态",
    "是否逾期",
    "最新进展",
]


def items_xlsx(items: list[ActionItem], latest: dict[int, str]) -> bytes:
    """The open action items (督办事项清单) as a workbook, one row per item."""
    with translation.override("zh-hans"):
        return _items_xlsx(items, latest)


def _items_xlsx(items: list[ActionItem], latest: dict[int, str]) -> bytes:
    today = timezone.localdate()
    buffer = io.BytesIO()
    write_xlsx(
        buffer,
        ITEM_COLUMNS,
        (
            (
                index,
                item.meeting.title,
                item.decision,
                item.owner_name,
                item.deadline.isoformat(),
                item.evidence_required,
                str(item.get_state_display()),
                "是" if item.overdue_on(today) else "否",
                latest.get(item.pk, ""),
            )
            for index, item in enumerate(items, start=1)
        ),
        "督办事项",
    )
    return buffer.getvalue()
