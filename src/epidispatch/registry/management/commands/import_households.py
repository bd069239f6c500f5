from epidispatch.imports.command import ImportCommand


class Command(ImportCommand):
    help = (
        "Import households from .xlsx or .csv (户地址, 网格编码, 身份证件号码, optional 姓名 "
        "and 与户主关系; docs/households.md). Importing the same file again changes nothing."
    )
    kind = "households"
