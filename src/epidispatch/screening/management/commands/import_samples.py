from epidispatch.screening.imports import SAMPLES
from epidispatch.screening.management.round_import import RoundImportCommand


class Command(RoundImportCommand):
    help = (
        "Import a round's sample list (试管编号, 身份证件号码, 姓名, 采样时间, optional 采样点 "
        "and 混采人数). Importing the same file again changes nothing."
    )
    kind = SAMPLES.name
