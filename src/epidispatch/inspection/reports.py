"""The inspection report of a unit and a period (督导检查情况通报) as `.docx` and `.xlsx`.

Written in Chinese like the 日通报: it is a document the office files and forwards, read
in the language of the office whatever the reader's page language is.
"""

import io

from django.utils import timezone
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from openpyxl import Workbook
from openpyxl.styles import Font

from epidispatch.core.exports import safe_text

from .selectors import Report

CATEGORY_COLUMNS = ("场所类别", "发现问题", "已整改", "未整改", "逾期")
CASE_COLUMNS = ("单位", "措施", "起因", "事由", "状态", "表态发言", "承诺期限")
CLOSED_COLUMNS = ("场所", "问题", "责任单位", "整改期限", "验收时间")
OFFENDER_COLUMNS = ("场所", "责任单位", "被查出问题次数")


def title(report: Report) -> str:
    return f"{report.unit.name}重点场所督导检查情况"


def period_text(report: Report) -> str:
    return f"{report.start:%Y年%m月%d日}至{report.end:%Y年%m月%d日}"


def _when(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else ""


def summary_rows(report: Report) -> list[tuple[str, int]]:
    return [
        ("督导检查（含暗访）", report.inspections),
        ("单位自检自查", report.self_inspections),
        ("发现问题", report.problems),
        ("已整改到位", report.verified),
        ("逾期未整改", report.overdue),
        ("约谈问责、通报", len(report.cases)),
    ]


def case_rows(report: Report) -> list[tuple]:
    return [
        (
            case.unit.name,
            case.get_kind_display(),
            case.get_cause_display(),
            case.summary,
            case.get_state_display(),
            case.pledge,
            f"{case.pledge_deadline:%Y-%m-%d}" if case.pledge_deadline else "",
        )
        for case in report.cases
    ]


def closed_rows(report: Report) -> list[tuple]:
    return [
        (
            problem.place.name,
            problem.description,
            problem.responsible_unit.name,
            _when(problem.deadline),
            _when(problem.verified_at),
        )
        for problem in report.closed_problems
    ]


def _set_font(document) -> None:
    style = document.styles["Normal"]
    style.font.size = Pt(12)
    style.font.name = "SimSun"
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "SimSun")


def _table(document, columns, rows) -> None:
    table = document.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, columns, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(str(text)).bold = True
    for row in rows:
        for cell, value in zip(table.add_row().cells, row, strict=True):
            cell.text = str(value)


def report_docx(report: Report) -> bytes:
    document = Document()
    _set_font(document)
    heading = document.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = heading.add_run(title(report))
    run.bold, run.font.size = True, Pt(18)
    document.add_paragraph(f"统计期间：{period_text(report)}").alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph("一、总体情况").runs[0].bold = True
    _table(document, ("项目", "数量"), summary_rows(report))
    document.add_paragraph("二、问题分类及整改情况").runs[0].bold = True
    if report.categories:
        _table(
            document,
            CATEGORY_COLUMNS,
            [(c.category, c.problems, c.verified, c.open, c.overdue) for c in report.categories],
        )
    else:
        document.add_paragraph("本期未发现问题。")
    document.add_paragraph("三、已整改到位（销号）的问题").runs[0].bold = True
    if report.closed_problems:
        _table(document, CLOSED_COLUMNS, closed_rows(report))
    else:
        document.add_paragraph("无。")
    document.add_paragraph("四、屡查屡犯的场所").runs[0].bold = True
    if report.repeat_offenders:
        _table(
            document,
            OFFENDER_COLUMNS,
            [(o.place, o.unit, o.problems) for o in report.repeat_offenders],
        )
    else:
        document.add_paragraph("无。")
    document.add_paragraph("五、约谈问责及奖惩情况").runs[0].bold = True
    if report.cases:
        _table(document, CASE_COLUMNS, case_rows(report))
    else:
        document.add_paragraph("无。")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def report_xlsx(report: Report) -> bytes:
    workbook = Workbook()
    bold = Font(bold=True)
    sheets = [
        ("总体情况", ("项目", "数量"), summary_rows(report)),
        (
            "问题分类",
            CATEGORY_COLUMNS,
            [(c.category, c.problems, c.verified, c.open, c.overdue) for c in report.categories],
        ),
        ("已整改", CLOSED_COLUMNS, closed_rows(report)),
        (
            "屡查屡犯",
            OFFENDER_COLUMNS,
            [(o.place, o.unit, o.problems) for o in report.repeat_offenders],
        ),
        ("约谈问责", CASE_COLUMNS, case_rows(report)),
    ]
    workbook.remove(workbook.active)
    for name, columns, rows in sheets:
        sheet = workbook.create_sheet(name)
        sheet.append([title(report), period_text(report)])
        sheet.append(list(columns))
        for cell in sheet[2]:
            cell.font = bold
        for row in rows:
            sheet.append([safe_text(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
