from epidispatch.imports.command import ImportCommand


class Command(ImportCommand):
    help = (
        "Import doses from the provincial system's extract (.xlsx, or .csv in UTF-8 or "
        "GB18030). Doses already stored are left unchanged; people not in the registry are "
        "rejected, never counted."
    )
    kind = "doses"
