"""The ledger moves from `registry` to `imports` keeping its rows: this migration only
tells Django's state that the model now lives here, still on the table
`registry_importbatch`; 0002 renames the table once nothing points at the old model."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("registry", "0002_resident_unvaccinated_reason_importbatch"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ImportBatch",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("kind", models.CharField(choices=[("residents", "Residents"), ("doses", "Doses")], max_length=12, verbose_name="kind")),
                        ("file_name", models.CharField(max_length=255, verbose_name="file name")),
                        ("file_sha256", models.CharField(db_index=True, max_length=64, verbose_name="file SHA-256")),
                        ("scope_path", models.CharField(blank=True, help_text="who may see this batch", max_length=255, verbose_name="scope")),
                        ("state", models.CharField(choices=[("queued", "Queued"), ("running", "Running"), ("done", "Done"), ("failed", "Failed")], default="queued", max_length=8, verbose_name="state")),
                        ("started_at", models.DateTimeField(auto_now_add=True, verbose_name="started at")),
                        ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="finished at")),
                        ("rows_read", models.PositiveIntegerField(default=0, verbose_name="rows read so far")),
                        ("rows", models.PositiveIntegerField(default=0, verbose_name="rows")),
                        ("stored", models.PositiveIntegerField(default=0, verbose_name="stored")),
                        ("unchanged", models.PositiveIntegerField(default=0, verbose_name="unchanged")),
                        ("duplicates", models.PositiveIntegerField(default=0, verbose_name="duplicates")),
                        ("rejected", models.PositiveIntegerField(default=0, verbose_name="rejected")),
                        ("extra_columns", models.JSONField(blank=True, default=list, verbose_name="columns not imported")),
                        ("error_report", models.CharField(blank=True, max_length=255, verbose_name="error report")),
                        ("message", models.TextField(blank=True, verbose_name="message")),
                        ("uploaded_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="imported by")),
                    ],
                    options={
                        "verbose_name": "import batch",
                        "verbose_name_plural": "import batches",
                        "ordering": ["-started_at"],
                        "db_table": "registry_importbatch",
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
