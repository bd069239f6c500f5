"""The board as `.xlsx` (openpyxl through `core.exports`, formula-safe): the figures, then
the flagged cases with the unit responsible, then the control areas."""

from typing import IO

from django.utils.translation import gettext as _

from epidispatch.core.exports import write_xlsx

from .models import AreaLevel, Measure
from .selectors import Board


def figure_labels() -> list[tuple[str, str]]:
    return [
        ("centralized_isolation", str(Measure.CENTRALIZED_ISOLATION.label)),
        ("home_isolation", str(Measure.HOME_ISOLATION.label)),
        ("home_monitoring", str(Measure.HOME_MONITORING.label)),
        ("ending_today", _("Last phase ends today")),
        ("ended", _("Last phase ended")),
        ("checked_in", _("Checked in today")),
        ("missed_checkins", _("Missed check-ins")),
        ("tests_due", _("Tests due today")),
        ("tests_missing", _("Tests due, no result yet")),
    ]


def board_xlsx(target: IO[bytes], board: Board) -> None:
    rows: list[tuple] = [(board.unit.name, board.unit.code, board.day.isoformat())]
    rows += [(label, getattr(board, key), key) for key, label in figure_labels()]
    rows.append(())
    rows.append((_("Flag"), _("Name"), _("ID number"), _("Grid"), _("Responsible unit"),
                 _("Last phase ends on"), _("Days")))  # fmt: skip
    for flag in board.flags:
        rows.append(
            (
                _("Kept past the end") if flag.kind == "overreach" else _("Released early"),
                flag.case.person.name,
                flag.case.person.id_number_masked,
                flag.case.grid.name,
                flag.unit,
                flag.case.ends_on.isoformat(),
                flag.days,
            )
        )
    rows.append(())
    rows.append((_("Control area"), _("Unit"), _("Level")))
    for row in board.areas:
        level = str(AreaLevel(row.level).label) if row.level else _("Lifted")
        rows.append((row.area.name, row.area.unit.name, level))
    write_xlsx(target, [_("Board"), "", ""], rows, sheet_title=_("Key persons"))
