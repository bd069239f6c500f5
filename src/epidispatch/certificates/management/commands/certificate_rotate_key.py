import json

from django.core.management.base import BaseCommand

from epidispatch.certificates.keys import public_keys
from epidispatch.certificates.services import signing_key_rotate


class Command(BaseCommand):
    help = (
        "Start signing certificates with a new key (密钥轮换). The old keys stay published, "
        "so certificates signed before keep verifying."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="print one JSON object"
        )

    def handle(self, *args, as_json: bool, **options):
        key = signing_key_rotate()
        result = {"key_id": key.key_id, "keys": list(public_keys())}
        if as_json:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(f"signing with {key.key_id}; verifying {', '.join(result['keys'])}")
