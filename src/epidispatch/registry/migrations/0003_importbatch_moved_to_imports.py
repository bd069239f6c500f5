"""The ledger now lives in the `imports` app: drop the model from this app's state only;
its table and rows stay (imports 0002 renames the table)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0002_resident_unvaccinated_reason_importbatch"),
        ("imports", "0001_initial"),
        ("vaccination", "0004_dose_batch_in_imports"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ImportBatch")],
            database_operations=[],
        ),
    ]
