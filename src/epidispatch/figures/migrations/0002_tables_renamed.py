"""The live figures' tables take the app's name (a rename: the rows stay where they are)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('figures', '0001_initial'),
        ('dispatch', '0004_live_figures_to_figures'),
    ]

    operations = [
        migrations.AlterModelTable(name='rollup', table=None),
        migrations.AlterModelTable(name='rollupstate', table=None),
    ]
