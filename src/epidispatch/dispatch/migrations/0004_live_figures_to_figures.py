"""The live figures (Rollup, RollupState) now belong to the `figures` app, which took them
over on their tables in its 0001: they leave dispatch's state only; no table is touched."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('dispatch', '0003_candidates_to_accountability'),
        ('figures', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name='Rollup'),
                migrations.DeleteModel(name='RollupState'),
            ],
        ),
    ]
