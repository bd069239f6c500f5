"""The bulletin as a workbook (.xlsx): the figures, then one sheet per ranking."""

import io

from epidispatch.core.exports import safe_text

from .content import GROUP_NAMES, BulletinContent
from .package import fixed_package, utc_naive

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
    properties.created = properties.modified = utc_naive(content.cutoff)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return fixed_package(buffer.getvalue(), content.cutoff)
