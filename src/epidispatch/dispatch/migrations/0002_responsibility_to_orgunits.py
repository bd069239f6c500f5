"""Responsibility now lives in orgunits (same table): only the model state moves."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("dispatch", "0001_initial"),
        ("orgunits", "0002_responsibility"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Responsibility")],
        ),
    ]
