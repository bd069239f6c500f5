from epidispatch.imports.command import ImportCommand


class Command(ImportCommand):
    kind = "stock_receipts"
    help = (
        "Import delivery notes (.xlsx or .csv): 入库单号, 入库单位编码, 物资名称, 批号, 有效期至, "
        "数量, optional 入库日期, 追溯码 (several per line, separated by spaces or commas), 备注. "
        "Importing the same file again changes nothing."
    )
