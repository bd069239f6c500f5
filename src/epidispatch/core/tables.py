"""Reading the spreadsheets offices exchange: `.xlsx` (python-calamine) and `.csv` in
UTF-8 (with or without BOM) or GB18030, detected.

Rows are numbered as a spreadsheet program shows them (the header is row 1), so an error
message can point at the cell the user has to fix.
"""

import codecs
import csv
import datetime
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import python_calamine
from django.utils.translation import gettext as _

ZIP_MAGIC = b"PK\x03\x04"
#: Legacy binary Excel (.xls), which calamine reads too.
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
#: The column of a frame that holds each row's number as a spreadsheet shows it.
ROW = "_row"
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


def _probe(path: Path) -> bytes:
    if not path.is_file():
        raise UnreadableFile(_("File not found: %(path)s") % {"path": path})
    with path.open("rb") as handle:
        head = handle.read(ENCODING_PROBE_BYTES)
    if not head.strip():
        raise UnreadableFile(_("The file is empty."))
    return head


def _is_workbook(path: Path, head: bytes) -> bool:
    if head.startswith((ZIP_MAGIC, OLE_MAGIC)):
        return True
    if path.suffix.lower() in {".xlsx", ".xlsm", ".xls"}:
        raise UnreadableFile(_("%(name)s is not a valid Excel file.") % {"name": path.name})
    return False


def read_table(path: str | Path) -> Table:
    path = Path(path)
    head = _probe(path)
    rows = _xlsx_rows(path) if _is_workbook(path, head) else _csv_rows(path, _text_encoding(head))
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


def unmatched_headers(headers: list[str], columns: dict[str, int]) -> list[str]:
    """The file's headers that `match_columns` did not map: kept in the import ledger."""
    used = set(columns.values())
    return [header for index, header in enumerate(headers) if header and index not in used]


def match_columns(
    headers: list[str], columns: dict[str, tuple[str, ...]], required: tuple[str, ...] = ()
) -> dict[str, int]:
    """Map each field to its column: an exact header first, then the known aliases.

    `columns` maps a field to its header names, the official one first. Fields whose
    header is absent are left out of the result; UnreadableFile names the `required` ones
    that are absent.
    """
    found: dict[str, int] = {}
    for field, names in columns.items():
        for name in names:
            if name in headers:
                found[field] = headers.index(name)
                break
    missing = [columns[field][0] for field in required if field not in found]
    if missing:
        raise UnreadableFile(
            _("Required column missing: %(columns)s.") % {"columns": "、".join(missing)}
        )
    return found


@dataclass
class Frame:
    """A whole table as text columns, for vectorised validation of big files (polars).

    `data` has one String column per header, named by its position ("0", "1", ...) because
    headers may repeat or be blank, plus ROW; blank rows are dropped.
    """

    headers: list[str]
    data: pl.DataFrame


def read_frame(path: str | Path) -> Frame:
    """Read a whole `.xlsx`/`.xls`/`.csv` file; raises UnreadableFile if it cannot be read."""
    path = Path(path)
    head = _probe(path)
    if _is_workbook(path, head):
        records = [[_cell_string(cell) for cell in cells] for _n, cells in _xlsx_rows(path)]
        width = max((len(cells) for cells in records), default=0)
        records = [cells + [None] * (width - len(cells)) for cells in records]
        data = pl.DataFrame(records, schema=[str(i) for i in range(width)], orient="row")
    else:
        data = _csv_frame(path, _text_encoding(head))
    if data.height == 0:
        raise UnreadableFile(_("The file is empty."))
    headers = [normalize_header(cell) for cell in data.row(0)]
    if not any(headers):
        raise UnreadableFile(_("The first row holds no column headers."))
    data = data.with_row_index(ROW, offset=1).slice(1)
    cells = [pl.col(name) for name in data.columns if name != ROW]
    data = data.with_columns(pl.col(ROW).cast(pl.Int64)).filter(
        pl.any_horizontal([cell.str.strip_chars().str.len_chars() > 0 for cell in cells])
    )
    return Frame(headers=headers, data=data)


def _csv_frame(path: Path, encoding: str) -> pl.DataFrame:
    raw = path.read_bytes()
    if encoding == "utf-8-sig":
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        raise UnreadableFile(
            _(
                "Row %(row)d cannot be decoded as %(encoding)s; "
                "save the file as UTF-8 or GB18030 instead."
            )
            % {"row": raw.count(b"\n", 0, error.start) + 1, "encoding": encoding}
        ) from None
    if encoding != "utf-8":  # polars reads UTF-8: a plain UTF-8 file's bytes are the text
        raw = text.encode()
    del text
    try:
        data = pl.read_csv(raw, has_header=False, infer_schema=False, truncate_ragged_lines=True)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as error:
        raise UnreadableFile(
            _("The file is not valid CSV: %(error)s") % {"error": str(error).splitlines()[0]}
        ) from None
    return data.rename(dict(zip(data.columns, map(str, range(data.width)), strict=True)))


def _cell_string(value) -> str | None:
    """An Excel cell as the text a CSV export would hold."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return cell_text(value)
