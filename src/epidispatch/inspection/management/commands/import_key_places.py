from epidispatch.imports.command import ImportCommand


class Command(ImportCommand):
    kind = "key_places"
    help = (
        "Import key places (.xlsx or .csv): 名称, 类别, 地址, 网格编码, 责任单位编码, 负责人, "
        "联系电话. Importing the same file again changes nothing."
    )
