from epidispatch.screening.imports import RESULTS
from epidispatch.screening.management.round_import import RoundImportCommand


class Command(RoundImportCommand):
    help = (
        "Import a lab's results for a round (试管编号, 检测结果, 检测时间, 检测机构). A tube "
        "already reported keeps its result."
    )
    kind = RESULTS.name
