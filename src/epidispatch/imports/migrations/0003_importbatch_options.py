"""A batch keeps the raw values of its kind's declared options (the screening round a
sample list went into …), so the background import resolves them and the ledger shows
them."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("imports", "0002_ledger_table_and_liveness"),
    ]

    operations = [
        migrations.AddField(
            model_name="importbatch",
            name="options",
            field=models.JSONField(blank=True, default=dict, verbose_name="options"),
        ),
    ]
