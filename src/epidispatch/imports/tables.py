"""Reading the spreadsheets offices exchange into a frame of text cells: `.xlsx`/`.xls`
(python-calamine) and `.csv` in UTF-8 (with or without BOM), UTF-16 (with BOM) or GB18030.

This module runs in the reading child process (`epidispatch.imports.reading`), before
Django is set up there: its refusals carry an untranslated message and its parameters,
translated when the parent shows them. Rows are numbered as a spreadsheet program shows
them (the header is row 1), so an error can point at the cell the user has to fix.
"""

import codecs
import datetime
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import python_calamine
from django.utils.translation import gettext, gettext_noop

ZIP_MAGIC = b"PK\x03\x04"
#: Legacy binary Excel (.xls), which calamine reads too.
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
ROW = "_row"
#: How much of a text file is probed to tell its encoding.
ENCODING_PROBE_BYTES = 1 << 20
#: A GB18030 reading in which more than this share of the Chinese characters lies outside
#: GB2312 (the 6,763 common characters) is not Chinese text written in GB18030: Big5
#: (traditional Chinese) bytes decode as GB18030 without error but into rare characters.
RARE_CHARACTER_SHARE = 0.2


class UnreadableFile(Exception):
    """The file could not be read as a table at all (as opposed to a bad row).

    `message` is an English msgid (translated when shown) or an already translated text.
    """

    def __init__(self, message: str, params: dict | None = None):
        super().__init__(message, params or {})
        self.message, self.params = message, params or {}

    def __str__(self) -> str:
        text = gettext(self.message)
        return text % self.params if self.params else text


@dataclass(frozen=True)
class Limits:
    """What a file may hold before it is refused unread (settings `EPIDISPATCH_IMPORT_*`)."""

    max_bytes: int
    max_unzipped_bytes: int
    max_rows: int
    max_columns: int
    max_cells: int
    max_cell_chars: int


@dataclass
class Frame:
    """A whole table as text: `data` has one String column per file column, named by its
    position ("0", "1", …) because headers may repeat or be blank, plus ROW; blank rows
    are dropped."""

    headers: list[str]
    data: pl.DataFrame


def normalize_header(text) -> str:
    """Header cells as exports write them: full-width forms, stray spaces, a * for required."""
    return "".join(unicodedata.normalize("NFKC", str(text or "")).split()).strip("*")


def cell_text(value) -> str:
    """A cell as text: Excel's 621121.0 for a code typed as a number becomes 621121."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def is_workbook(path: str | Path, limits: Limits) -> bool:
    """Whether the file is a spreadsheet (as opposed to text); UnreadableFile when it is
    missing, empty or over the size limit."""
    path = Path(path)
    return _is_workbook(path, _probe(path, limits))


def read_frame(path: str | Path, limits: Limits) -> Frame:
    """Read a whole file within `limits`; raises UnreadableFile when it cannot be read."""
    path = Path(path)
    head = _probe(path, limits)
    if _is_workbook(path, head):
        data = _workbook_frame(path, head, limits)
    else:
        data = _csv_frame(path, _text_encoding(path, head), limits)
    if data.height == 0:
        raise UnreadableFile(gettext_noop("The file is empty."))
    headers = [normalize_header(cell) for cell in data.row(0)]
    if not any(headers):
        raise UnreadableFile(gettext_noop("The first row holds no column headers."))
    _check_shape(data.height - 1, data.width, limits)
    too_long = [
        name
        for name in data.columns
        if (data[name].str.len_chars().max() or 0) > limits.max_cell_chars
    ]
    if too_long:
        raise UnreadableFile(
            gettext_noop("A cell holds more than %(limit)d characters: this is not a register."),
            {"limit": limits.max_cell_chars},
        )
    data = data.with_row_index(ROW, offset=1).slice(1)
    cells = [pl.col(name) for name in data.columns if name != ROW]
    data = data.with_columns(pl.col(ROW).cast(pl.Int64)).filter(
        pl.any_horizontal([cell.str.strip_chars().str.len_chars() > 0 for cell in cells])
    )
    return Frame(headers=headers, data=data)


def _probe(path: Path, limits: Limits) -> bytes:
    if not path.is_file():
        raise UnreadableFile(gettext_noop("File not found: %(path)s"), {"path": str(path)})
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise UnreadableFile(
            gettext_noop("The file is larger than %(limit)d MB."),
            {"limit": limits.max_bytes >> 20},
        )
    with path.open("rb") as handle:
        head = handle.read(ENCODING_PROBE_BYTES)
    if not head.strip():
        raise UnreadableFile(gettext_noop("The file is empty."))
    return head


def _check_shape(rows: int, columns: int, limits: Limits) -> None:
    if rows > limits.max_rows:
        raise UnreadableFile(
            gettext_noop("The file has more than %(limit)d rows; split it."),
            {"limit": limits.max_rows},
        )
    if columns > limits.max_columns:
        raise UnreadableFile(
            gettext_noop("The file has more than %(limit)d columns."),
            {"limit": limits.max_columns},
        )
    if rows * columns > limits.max_cells:
        raise UnreadableFile(
            gettext_noop("The file has more than %(limit)d cells; split it."),
            {"limit": limits.max_cells},
        )


def _is_workbook(path: Path, head: bytes) -> bool:
    if head.startswith((ZIP_MAGIC, OLE_MAGIC)):
        return True
    if path.suffix.lower() in {".xlsx", ".xlsm", ".xls"}:
        raise UnreadableFile(
            gettext_noop("%(name)s is not a valid Excel file."), {"name": path.name}
        )
    return False


def _text_encoding(path: Path, head: bytes) -> str:
    """UTF-8 (BOM or not), UTF-16 with its BOM, else GB18030 when the text reads as
    Chinese in it; anything else is refused rather than read as gibberish."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        raise UnreadableFile(
            gettext_noop(
                "The encoding of this file cannot be told (UTF-16 without a byte-order mark?); "
                "save it as UTF-8 CSV or as .xlsx."
            )
        )
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    text = codecs.getincrementaldecoder("gb18030")(errors="replace").decode(head, final=False)
    chinese = [ch for ch in text if "\u3400" <= ch <= "\u9fff"]
    rare = sum(1 for ch in chinese if not _in_gb2312(ch))
    if "\ufffd" in text or (chinese and rare / len(chinese) > RARE_CHARACTER_SHARE):
        raise UnreadableFile(
            gettext_noop(
                "The encoding of this file cannot be told: it is neither UTF-8 nor GB18030 "
                "(Big5 perhaps); save it as UTF-8 CSV or as .xlsx."
            )
        )
    return "gb18030"


def _in_gb2312(character: str) -> bool:
    try:
        character.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _csv_frame(path: Path, encoding: str, limits: Limits) -> pl.DataFrame:
    raw = path.read_bytes()
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        raise UnreadableFile(
            gettext_noop(
                "Row %(row)d cannot be decoded as %(encoding)s; "
                "save the file as UTF-8 or GB18030 instead."
            ),
            {"row": raw.count(b"\n", 0, error.start) + 1, "encoding": encoding},
        ) from None
    if encoding != "utf-8":  # polars reads UTF-8: a plain UTF-8 file's bytes are the text
        raw = text.lstrip("\ufeff").encode()
    del text
    try:
        data = pl.read_csv(
            raw,
            has_header=False,
            infer_schema=False,
            truncate_ragged_lines=True,
            n_rows=limits.max_rows + 2,
        )
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as error:
        raise UnreadableFile(
            gettext_noop("The file is not valid CSV: %(error)s"),
            {"error": str(error).splitlines()[0]},
        ) from None
    return data.rename(dict(zip(data.columns, map(str, range(data.width)), strict=True)))


def _workbook_frame(path: Path, head: bytes, limits: Limits) -> pl.DataFrame:
    if head.startswith(ZIP_MAGIC):
        _check_unzipped_size(path, limits)
    try:
        sheet = python_calamine.load_workbook(str(path)).get_sheet_by_index(0)
        _check_shape(max(sheet.total_height - 1, 0), sheet.total_width, limits)
        records = [[_cell_string(cell) for cell in cells] for cells in sheet.iter_rows()]
    except (
        python_calamine.CalamineError,
        python_calamine.ZipError,
        python_calamine.XmlError,
        OSError,
        ValueError,
        IndexError,
    ) as error:
        raise UnreadableFile(
            gettext_noop("%(name)s is not a valid Excel file (%(error)s)."),
            {"name": path.name, "error": str(error)},
        ) from None
    width = max((len(cells) for cells in records), default=0)
    records = [cells + [None] * (width - len(cells)) for cells in records]
    return pl.DataFrame(records, schema={str(i): pl.String for i in range(width)}, orient="row")


def _check_unzipped_size(path: Path, limits: Limits) -> None:
    """A zip bomb announces itself in the sizes its directory declares; refuse it before
    a byte is inflated (a lying directory is caught by the child's memory limit)."""
    try:
        with zipfile.ZipFile(path) as archive:
            declared = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise UnreadableFile(
            gettext_noop("%(name)s is not a valid Excel file (%(error)s)."),
            {"name": path.name, "error": str(error)},
        ) from None
    if declared > limits.max_unzipped_bytes:
        raise UnreadableFile(
            gettext_noop("%(name)s unpacks to more than %(limit)d MB; it is not a register."),
            {"name": path.name, "limit": limits.max_unzipped_bytes >> 20},
        )


def _cell_string(value) -> str | None:
    """An Excel cell as the text a CSV export would hold."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return cell_text(value)
