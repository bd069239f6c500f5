"""The adverse-reaction placeholder moved to supply (supply 0003 copied its rows)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("fieldwork", "0001_initial"),
        ("supply", "0003_aefi"),
    ]

    operations = [
        migrations.DeleteModel(name="AdverseReactionReport"),
    ]
