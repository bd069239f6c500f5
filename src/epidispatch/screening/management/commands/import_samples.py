from epidispatch.screening.imports import samples_import
from epidispatch.screening.management.screening_import import ScreeningImportCommand


class Command(ScreeningImportCommand):
    help = (
        "Import a round's sample list (试管编号, 身份证件号码, 姓名, 采样时间, optional 采样点 "
        "and 混采人数). Importing the same file again changes nothing."
    )
    kind = "samples"
    importer = staticmethod(samples_import)
