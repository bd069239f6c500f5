"""Declaring a file kind: what a module writes to get a file imported.

A module (registry, vaccination, screening, supply …) describes one kind of file it
receives and registers it from its own `imports` module; the framework does the rest
(see `docs/imports.md` and `epidispatch.imports.services`):

    RESIDENTS = register(FileKind(
        name="residents",
        label=_("Residents"),
        columns=(
            Column("name", ("姓名", "居民姓名"), required=True, max_length=60, example="张三"),
            Column("id_number", ("身份证件号码", "身份证号"), required=True, max_length=40),
            ...
        ),
        check_row=resident_of,   # or check_frame=… for vectorised checks of big files
        write=residents_write,
    ))

- `columns`: each field with its headers (the official one first, then aliases matched
  after exact ones), whether it is required, its length limit (a longer cell is a rejected
  row naming row, column and limit; nothing is cut) and an example for the template.
- `check_row(values, run)`: gets one row as `{field: text}` and returns what `write` needs
  (a model instance, a tuple …) or raises `RowProblem(field, reason)`.
- `check_frame(frame, run)`: the vectorised alternative for big files; gets a polars frame
  with one String column per field plus `ROW`, returns it with `problem_field` and
  `problem` columns (null when the row is good; `problem_columns` builds them).
- `write(run, data)`: runs inside the import's one transaction with the good rows (a list
  of `(row, item)` from `check_row`, or the frame from `check_frame`); stores them, sets
  `run.summary.stored/unchanged/duplicates`, may still `run.reject(...)` rows, and calls
  `run.touch(paths)` with the org-unit paths it wrote so the batch is listed for the
  users whose scope covers them.
- `roles`: who may import it from the web and the API.
- `options`: what the kind needs beyond the file (the screening round a sample list
  belongs to …), each an `Option`: the upload page shows it as a choice among the values
  the user may pick, the API takes it as a form field, the kind's command as an argument.
  The raw value is kept on the batch (`ImportBatch.options`) and resolved, within the
  importer's scope, when the import runs; the kind reads the resolved object in
  `run.options[name]`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from django.utils.functional import Promise

from epidispatch.accounts.models import Role

#: Cell length of a column that declares none: far above any real value, low enough that
#: a pasted essay is a rejected row rather than a database error.
DEFAULT_MAX_LENGTH = 200
#: Who may import files unless the kind says otherwise: the dispatcher and town/department
#: officials keep the register, the supply officer brings the provincial extract.
DEFAULT_ROLES = (Role.DISPATCHER, Role.TOWN_OFFICIAL, Role.SUPPLY_OFFICER)
#: The column of a frame that holds each row's number as a spreadsheet shows it.
ROW = "_row"


@dataclass(frozen=True)
class Column:
    field: str
    names: tuple[str, ...]
    required: bool = False
    max_length: int = DEFAULT_MAX_LENGTH
    example: str = ""

    @property
    def header(self) -> str:
        return self.names[0]


@dataclass(frozen=True)
class Option:
    """Something a kind needs beyond the file, chosen when it is uploaded.

    `choices(user)` lists `(value, label)` pairs the user may pick (scoped: the page's
    select offers nothing else); `resolve(value, user)` turns a stored value into what the
    kind reads in `run.options`, raising `UnreadableFile` (imports.tables) with a Chinese
    message when the value names nothing the user may import into. `user` None is the
    command line run by the server's administrator (the whole database)."""

    name: str
    label: str | Promise
    choices: Callable[[Any], list[tuple[str, str]]]
    resolve: Callable[[str, Any], Any]
    help_text: str | Promise = ""


class RowProblem(Exception):
    """A row that cannot be stored: the field (column) at fault and why, in Chinese."""

    def __init__(self, field: str, reason: str):
        super().__init__(reason)
        self.field, self.reason = field, str(reason)


@dataclass(frozen=True)
class FileKind:
    name: str
    label: str | Promise
    columns: tuple[Column, ...]
    write: Callable[[Any, Any], None]
    check_row: Callable[[dict[str, str], Any], Any] | None = None
    check_frame: Callable[[pl.DataFrame, Any], pl.DataFrame] | None = None
    roles: tuple[str, ...] = DEFAULT_ROLES
    description: str | Promise = ""
    options: tuple[Option, ...] = ()
    fields: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if (self.check_row is None) == (self.check_frame is None):
            raise ValueError(f"file kind {self.name}: give exactly one of check_row, check_frame")
        object.__setattr__(self, "fields", {column.field: column for column in self.columns})

    @property
    def required(self) -> list[Column]:
        return [column for column in self.columns if column.required]

    def template(self) -> tuple[list[str], list[str]]:
        """The headers of a blank file to fill in (required ones marked *, which the reader
        ignores, so the template imports as it is) and one example row."""
        headers = [f"{c.header}*" if c.required else c.header for c in self.columns]
        return headers, [column.example for column in self.columns]


_KINDS: dict[str, FileKind] = {}


def register(kind: FileKind) -> FileKind:
    """Declare a file kind; a second declaration under the same name is a programming
    error (two modules would fight over one ledger key)."""
    if kind.name in _KINDS and _KINDS[kind.name] is not kind:
        raise ValueError(f"file kind {kind.name} is declared twice")
    _KINDS[kind.name] = kind
    return kind


def file_kind(name: str) -> FileKind:
    return _KINDS[name]


def file_kinds() -> list[FileKind]:
    return list(_KINDS.values())


def file_kind_label(name: str) -> str:
    kind = _KINDS.get(name)
    return str(kind.label) if kind else name


def problem_columns(cases: list[tuple[pl.Expr, str, pl.Expr | str]]) -> dict[str, pl.Expr]:
    """`problem_field` and `problem` for `check_frame`: the first case whose condition
    holds names the row's field and reason (conditions on already-null cells are fine)."""

    def first(values):
        expression = pl.when(cases[0][0]).then(values[0])
        for (condition, _field, _reason), value in zip(cases[1:], values[1:], strict=True):
            expression = expression.when(condition).then(value)
        return expression.otherwise(None)

    fields = [pl.lit(field_name) for _c, field_name, _r in cases]
    reasons = [r if isinstance(r, pl.Expr) else pl.lit(str(r)) for _c, _f, r in cases]
    return {"problem_field": first(fields), "problem": first(reasons)}
