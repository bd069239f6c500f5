"""The bulletin as a Word document (.docx). Byte-identical whenever it is made: its
timestamps are the snapshot's, the zip entries are rewritten in a fixed order with a fixed
date, so an office can hash last month's bulletin and get the hash it filed."""

import io

from ..models import (
    RankingMeasure,
)
from .chart import chart_png
from .content import BulletinContent
from .package import fixed_package, utc_naive

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


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
    properties.created = properties.modified = utc_naive(content.cutoff)
    buffer = io.BytesIO()
    document.save(buffer)
    return fixed_package(buffer.getvalue(), content.cutoff)


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
