"""What every file import reports: the §7 summary and the `.xlsx` of rejected rows."""

from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

from epidispatch.core.exports import write_xlsx


@dataclass
class RowError:
    row: int
    column: str
    reason: str
    name: str = ""
    id_number: str = ""  # masked


@dataclass
class ImportSummary:
    rows: int = 0
    stored: int = 0
    unchanged: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)

    def reject(self, error: RowError) -> None:
        self.rejected += 1
        self.errors.append(error)

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "stored": self.stored,
            "unchanged": self.unchanged,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
        }


def write_error_report(path: Path, errors: list[RowError]) -> None:
    """Rejected rows, sorted by row, as `.xlsx`: row, column, reason, name, masked ID."""
    write_xlsx(
        path,
        [_("Row"), _("Column"), _("Reason"), _("Name"), _("ID number")],
        (
            (e.row, e.column, e.reason, e.name, e.id_number)
            for e in sorted(errors, key=lambda e: e.row)
        ),
        sheet_title=_("Rejected rows"),
    )
