"""Writing `.xlsx` files that are safe to open (openpyxl, write-only mode).

Text that a spreadsheet program would run as a formula (=, +, -, @, tab, carriage return
at the start: OWASP's "CSV injection") is written as a literal string with a leading
apostrophe, so a name like `=HYPERLINK(...)` in an uploaded file stays text in our
exports.
"""

from collections.abc import Iterable
from pathlib import Path
from typing import IO

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value):
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def write_xlsx(
    target: Path | IO[bytes], headers: list[str], rows: Iterable[Iterable], sheet_title: str
) -> None:
    # Imported here for start-up time: openpyxl costs every process ~0.4 s at import.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    bold = Font(bold=True)
    header_cells = []
    for text in headers:
        cell = WriteOnlyCell(sheet, value=str(text))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=safe_text(value))
            if isinstance(value, str):
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    workbook.save(target)
