"""Running a screening import from the command line: the §8 summary and its error report."""

from datetime import datetime
from pathlib import Path

from django.conf import settings

from epidispatch.core.importing import ImportSummary, write_error_report


def error_report(kind: str, round_pk: int, summary: ImportSummary) -> str | None:
    """Write the rejected rows to the import-reports folder; its path, or None."""
    if not summary.errors:
        return None
    folder = Path(settings.DATA_DIR) / "import-reports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"screening-{kind}-{round_pk}-{datetime.now():%Y%m%d-%H%M%S-%f}-errors.xlsx"
    write_error_report(path, summary.errors)
    return str(path)
