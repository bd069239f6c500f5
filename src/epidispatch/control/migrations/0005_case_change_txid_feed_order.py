"""The key-person feed pages by the writing transaction (issue 28, core.feeds): a txid column
whose PostgreSQL default is pg_current_xact_id(), so a row committed after a later id is
not skipped. The rows written before carry 0 (a bare old cursor "<id>" reads as "0.<id>");
on SQLite the column stays NULL and the feed pages by id."""

from django.db import migrations, models

import epidispatch.core.feeds


def add_column(apps, schema_editor):
    table = schema_editor.quote_name("control_casechange")
    if schema_editor.connection.vendor == "postgresql":
        # DEFAULT 0 first: the existing rows get 0 without a rewrite of the table.
        schema_editor.execute(f"ALTER TABLE {table} ADD COLUMN txid bigint NOT NULL DEFAULT 0")
        schema_editor.execute(
            f"ALTER TABLE {table} ALTER COLUMN txid "
            "SET DEFAULT (pg_current_xact_id()::text::bigint)"
        )
    else:
        schema_editor.execute(f"ALTER TABLE {table} ADD COLUMN txid bigint NULL")


def drop_column(apps, schema_editor):
    table = schema_editor.quote_name("control_casechange")
    schema_editor.execute(f"ALTER TABLE {table} DROP COLUMN txid")


class Migration(migrations.Migration):
    dependencies = [("control", "0004_case_changes")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="casechange",
                    name="txid",
                    field=models.BigIntegerField(
                        blank=True,
                        db_default=epidispatch.core.feeds.CurrentTxid(),
                        editable=False,
                        null=True,
                        verbose_name="writing transaction",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(add_column, drop_column)],
        ),
        migrations.AddIndex(
            model_name="casechange",
            index=models.Index(fields=["txid", "id"], name="case_change_feed_order"),
        ),
    ]
