"""The ledger's guard, the indexes a trace reads, and the items offices hold.

- A PostgreSQL trigger refuses UPDATE and DELETE on stock moves: the ledger is append-only
  whatever code runs against it (the model refuses too, for SQLite).
- Two partial indexes on the doses: by lot number (covering resident, site and product, so
  `trace_lot` reads the index alone: bench/RESULTS.md) and by trace code (a pack's uses).
  They live here, not in vaccination, because only supply reads doses this way.
- A supply item per vaccine product (1 dose per pack, as the Chinese COVID-19 vaccines are
  filled) and the emergency supplies (物资储备) screening and control need.
"""

from django.db import migrations

EMERGENCY_ITEMS = [
    ("新冠病毒核酸检测试剂盒", "test_kit", "人份"),
    ("病毒采样管", "sampling_tube", "支"),
    ("医用防护口罩", "mask", "只"),
    ("医用防护服", "protective_gear", "套"),
]

DOSE_INDEXES = {
    "postgresql": [
        "CREATE INDEX IF NOT EXISTS supply_dose_lot ON vaccination_dose (lot_number) "
        "INCLUDE (resident_id, site_id, product_id) WHERE lot_number <> ''",
        "CREATE INDEX IF NOT EXISTS supply_dose_trace_code ON vaccination_dose (trace_code) "
        "WHERE trace_code <> ''",
    ],
    "sqlite": [
        "CREATE INDEX IF NOT EXISTS supply_dose_lot ON vaccination_dose (lot_number) "
        "WHERE lot_number <> ''",
        "CREATE INDEX IF NOT EXISTS supply_dose_trace_code ON vaccination_dose (trace_code) "
        "WHERE trace_code <> ''",
    ],
}

LEDGER_GUARD = """
CREATE OR REPLACE FUNCTION supply_stockmove_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'supply_stockmove is append-only: post a reversal instead';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER supply_stockmove_append_only BEFORE UPDATE OR DELETE ON supply_stockmove
    FOR EACH ROW EXECUTE FUNCTION supply_stockmove_append_only();
"""
LEDGER_GUARD_DROP = """
DROP TRIGGER IF EXISTS supply_stockmove_append_only ON supply_stockmove;
DROP FUNCTION IF EXISTS supply_stockmove_append_only();
"""


def forwards_sql(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in DOSE_INDEXES.get(vendor, []):
        schema_editor.execute(statement)
    if vendor == "postgresql":
        schema_editor.execute(LEDGER_GUARD)


def backwards_sql(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for name in ("supply_dose_lot", "supply_dose_trace_code"):
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    if vendor == "postgresql":
        schema_editor.execute(LEDGER_GUARD_DROP)


def seed(apps, schema_editor):
    VaccineProduct = apps.get_model("vaccination", "VaccineProduct")
    SupplyItem = apps.get_model("supply", "SupplyItem")
    for product in VaccineProduct.objects.all():
        SupplyItem.objects.get_or_create(
            product=product, defaults={"name": product.name[:60], "kind": "vaccine"}
        )
    for name, kind, unit_label in EMERGENCY_ITEMS:
        SupplyItem.objects.get_or_create(name=name, defaults={"kind": kind, "unit_label": unit_label})


class Migration(migrations.Migration):
    dependencies = [
        ("supply", "0001_initial"),
        ("vaccination", "0003_dose_resident_no_separate_index"),
    ]

    operations = [
        migrations.RunPython(forwards_sql, backwards_sql),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
