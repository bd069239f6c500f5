"""The categories of key places and a first checklist each (see inspection.reference)."""

from django.db import migrations

from epidispatch.inspection.reference import reference_data_load


def seed(apps, schema_editor):
    reference_data_load(apps)


class Migration(migrations.Migration):
    dependencies = [("inspection", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
