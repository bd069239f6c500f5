"""Responsibility (包抓) moves from dispatch to orgunits, keeping its table: the scoped
reads of the registry and field work need it, and they sit below the dispatch."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orgunits", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Responsibility",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "grid",
                            models.ForeignKey(
                                limit_choices_to={"kind": "grid"},
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="orgunits.orgunit",
                                verbose_name="grid",
                            ),
                        ),
                        (
                            "unit",
                            models.ForeignKey(
                                limit_choices_to={"kind": "department"},
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="responsibilities",
                                to="orgunits.orgunit",
                                verbose_name="department",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "responsibility",
                        "verbose_name_plural": "responsibilities",
                        "db_table": "dispatch_responsibility",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("unit", "grid"), name="responsibility_unique"
                            )
                        ],
                    },
                ),
            ],
        ),
    ]
