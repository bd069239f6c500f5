"""Free space in the target list's pages, so that marking people sampled (or in a positive
pool) rewrites rows in place without touching any index (PostgreSQL HOT updates)."""

from django.db import migrations


def fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE screening_roundtarget SET (fillfactor = 70)")


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_initial")]

    operations = [migrations.RunPython(fillfactor, migrations.RunPython.noop)]
