"""Half of each page of the target list and of the tubes left free (the target list had
30 %, the tubes none). A sample file marks every person of a page sampled in one
transaction, and a lab file gives every tube of a page its result in one transaction; each
new row version must fit in the page beside the old one (still visible until the commit)
to be a HOT update, which touches no index. At 70 % only about half of the target rows
did; the rest went to another page with a new entry in each of the table's four indexes
(measured: 3 WAL records a person instead of 1, and 4.7 s instead of 1.0 s to mark 97,000
people). Rows inserted from now on get the new fill; existing rounds keep theirs."""

from django.db import migrations

TABLES = {"screening_roundtarget": (45, 70), "screening_tube": (50, 100)}


def fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table, (now, _before) in TABLES.items():
            schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {now})")


def previous(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table, (_now, before) in TABLES.items():
            schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {before})")


class Migration(migrations.Migration):
    dependencies = [("screening", "0004_sample_target_path_unindexed")]

    operations = [migrations.RunPython(fillfactor, previous)]
