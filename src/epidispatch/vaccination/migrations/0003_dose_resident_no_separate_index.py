"""Drop Dose's separate index on resident_id: the unique (resident, dose_number) index
(dose_natural_key) starts with resident_id and serves the same lookups, and every index
costs each imported dose an insert (bench/RESULTS.md)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0002_resident_unvaccinated_reason_importbatch"),
        ("vaccination", "0002_reference_data"),
    ]

    operations = [
        migrations.AlterField(
            model_name="dose",
            name="resident",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="doses",
                to="registry.resident",
                verbose_name="resident",
            ),
        ),
    ]
