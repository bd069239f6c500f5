"""The ledger's table takes this app's name (a rename: rows and foreign keys stay), its
kind is any declared file kind, and a running batch records its process and last sign
of life so one whose process died can be marked failed."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("imports", "0001_initial"),
        ("registry", "0003_importbatch_moved_to_imports"),
    ]

    operations = [
        migrations.AlterModelTable(name="importbatch", table=None),
        migrations.AlterField(
            model_name="importbatch",
            name="kind",
            field=models.CharField(max_length=32, verbose_name="kind"),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="last sign of life"),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="pid",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="process id"),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="host",
            field=models.CharField(blank=True, max_length=255, verbose_name="host"),
        ),
    ]
