"""Reading the spreadsheets offices exchange: `.xlsx` (python-calamine) and `.csv` in
UTF-8 (with or without BOM) or GB18030, detected.

Rows are numbered as a spreadsheet program shows them (the header is row 1), so an error
message can point at the cell the user has to fix.
"""

import codecs
import csv
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import python_calamine
from django.utils.translation import gettext as _

ZIP_MAGIC = b"PK\x03\x04"
#: How much of a text file is probed to tell UTF-8 from GB18030.
ENCODING_PROBE_BYTES = 1 << 20


class UnreadableFile(Exception):
    """The file could not be read as a table at all (as opposed to a bad row)."""


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[tuple[int, list]]  # (row number as shown in a spreadsheet, cell values)


def normalize_header(text) -> str:
    """Header cells as exports write them: full-width forms, stray spaces, a * for required."""
    return "".join(unicodedata.normalize("NFKC", str(text or "")).split()).strip("*")


def read_table(path: str | Path) -> Table:
    path = Path(path)
    if not path.is_file():
        raise UnreadableFile(_("File not found: %(path)s") % {"path": path})
    with path.open("rb") as handle:
        head = handle.read(ENCODING_PROBE_BYTES)
    if not head.strip():
        raise UnreadableFile(_("The file is empty."))
    if head.startswith(ZIP_MAGIC):
        rows = _xlsx_rows(path)
    elif path.suffix.lower() in {".xlsx", ".xlsm", ".xls"}:
        raise UnreadableFile(_("%(name)s is not a valid Excel file.") % {"name": path.name})
    else:
        rows = _csv_rows(path, _text_encoding(head))
    try:
        _number, header_cells = next(rows)
    except StopIteration:
        raise UnreadableFile(_("The file is empty.")) from None
    headers = [normalize_header(cell) for cell in header_cells]
    if not any(headers):
        raise UnreadableFile(_("The first row holds no column headers."))
    return Table(headers=headers, rows=_skip_blank(rows))


def _text_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if b"\x00" in head:
        raise UnreadableFile(_("The file is neither a spreadsheet nor a text (CSV) file."))
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _csv_rows(path: Path, encoding: str) -> Iterator[tuple[int, list]]:
    with path.open(encoding=encoding, newline="") as handle:
        number = 0
        try:
            for number, row in enumerate(csv.reader(handle), start=1):
                yield number, row
        except UnicodeDecodeError:
            raise UnreadableFile(
                _(
                    "Row %(row)d cannot be decoded as %(encoding)s; "
                    "save the file as UTF-8 or GB18030 instead."
                )
                % {"row": number + 1, "encoding": encoding}
            ) from None
        except csv.Error as error:
            raise UnreadableFile(
                _("Row %(row)d is not valid CSV: %(error)s") % {"row": number + 1, "error": error}
            ) from None


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list]]:
    try:
        workbook = python_calamine.load_workbook(str(path))
        sheet = workbook.get_sheet_by_index(0)
        rows = sheet.iter_rows()
    except (
        python_calamine.CalamineError,
        python_calamine.ZipError,
        python_calamine.XmlError,
        OSError,
        ValueError,
    ) as error:
        raise UnreadableFile(
            _("%(name)s is not a valid Excel file (%(error)s).")
            % {"name": path.name, "error": error}
        ) from None
    number = 0
    try:
        for number, row in enumerate(rows, start=1):
            yield number, list(row)
    except (python_calamine.CalamineError, OSError, ValueError) as error:
        raise UnreadableFile(
            _("%(name)s is damaged after row %(row)d (%(error)s).")
            % {"name": path.name, "row": number, "error": error}
        ) from None


def _skip_blank(rows: Iterator[tuple[int, list]]) -> Iterator[tuple[int, list]]:
    for number, cells in rows:
        if any(str(cell).strip() for cell in cells if cell is not None):
            yield number, cells


def cell_text(value) -> str:
    """A cell as text: Excel's 621121.0 for a code typed as a number becomes 621121."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def match_columns(headers: list[str], columns: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Map each field to its column: an exact header first, then the known aliases.

    `columns` maps a field to its header names, the official one first. Fields whose
    header is absent are left out of the result.
    """
    found: dict[str, int] = {}
    for field, names in columns.items():
        for name in names:
            if name in headers:
                found[field] = headers.index(name)
                break
    return found
