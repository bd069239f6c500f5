import json

from django.core.management.base import BaseCommand

from epidispatch.certificates.selectors import certificate_verify


class Command(BaseCommand):
    help = (
        "Check a certificate payload (the text of its QR code) against the published keys "
        "and revocation list: valid, or why not (tampered, unknown_key, revoked, malformed)."
    )

    def add_arguments(self, parser):
        parser.add_argument("payload")
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="print one JSON object"
        )

    def handle(self, *args, payload: str, as_json: bool, **options):
        result = certificate_verify(payload).as_json()
        if as_json:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        for key, value in result.items():
            self.stdout.write(f"{key:<18} {value}")
