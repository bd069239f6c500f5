from epidispatch.screening.imports import results_import
from epidispatch.screening.management.screening_import import ScreeningImportCommand


class Command(ScreeningImportCommand):
    help = (
        "Import a lab's results for a round (试管编号, 检测结果, 检测时间, 检测机构). A tube "
        "already reported keeps its result."
    )
    kind = "results"
    importer = staticmethod(results_import)
