from epidispatch.imports.command import ImportCommand


class Command(ImportCommand):
    help = (
        "Import org units from .xlsx or .csv (columns 编码, 名称, 类型, 上级编码). Bad rows are "
        "reported with row, column and reason; importing the same file again changes nothing."
    )
    kind = "units"
