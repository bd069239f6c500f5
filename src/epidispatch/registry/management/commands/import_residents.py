from epidispatch.imports.command import ImportCommand


class Command(ImportCommand):
    help = (
        "Import residents from .xlsx or .csv (姓名, 身份证件号码, 联系电话, 网格编码, "
        "optional 人员状态 and 未接种原因). Importing the same file again changes nothing."
    )
    kind = "residents"
