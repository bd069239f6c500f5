import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from epidispatch.certificates.selectors import qr_code, resident_by_id_number
from epidispatch.certificates.services import certificate_issue


class Command(BaseCommand):
    help = (
        "Sign a resident's vaccination certificate (接种凭证): prints the payload the QR code "
        "carries and the path of the QR image (in the data folder's certificates/)."
    )

    def add_arguments(self, parser):
        parser.add_argument("id_number")
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="print one JSON object"
        )

    def handle(self, *args, id_number: str, as_json: bool, **options):
        try:
            resident = resident_by_id_number(id_number)
            if resident is None:
                raise CommandError(_("No resident has this ID number."))
            certificate = certificate_issue(resident=resident)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        folder = settings.DATA_DIR / "certificates"
        folder.mkdir(mode=0o700, exist_ok=True)
        path = folder / f"{certificate.serial}.png"
        qr_code(certificate).save(path, scale=4, border=4)
        if as_json:
            self.stdout.write(json.dumps({"certificate": certificate.payload, "qr_png": str(path)}))
            return
        self.stdout.write(certificate.payload)
        self.stdout.write(str(path))
