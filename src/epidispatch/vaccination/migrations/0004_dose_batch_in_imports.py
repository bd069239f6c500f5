"""Doses point at the ledger in its new app; the table and the foreign key in the
database stay as they are (only Django's state changes)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("imports", "0001_initial"),
        ("vaccination", "0003_dose_resident_no_separate_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="dose",
                    name="batch",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="doses", to="imports.importbatch", verbose_name="import batch"),
                ),
            ],
            database_operations=[],
        ),
    ]
