import json

from django.core.management.base import BaseCommand

from epidispatch.supply.selectors import lot_trace


class Command(BaseCommand):
    help = (
        "Trace a vaccine lot (疫苗流向追溯): doses given from it, people, sites, and the stock "
        "ledger's receipts and stock on hand."
    )

    def add_arguments(self, parser):
        parser.add_argument("lot_number")
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="print one JSON object"
        )

    def handle(self, *args, lot_number: str, as_json: bool, **options):
        figures = lot_trace(lot_number.strip()[:40])
        if as_json:
            self.stdout.write(json.dumps(figures, ensure_ascii=False))
            return
        for key, value in figures.items():
            if key == "sites":
                for site in value:
                    self.stdout.write(f"  {site['code'] or '—':<16} {site['doses']}")
            else:
                self.stdout.write(f"{key:<10} {value}")
