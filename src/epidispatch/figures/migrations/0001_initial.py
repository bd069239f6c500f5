"""The live figures move here from `dispatch`: the models are taken over as they are, on
their existing tables (no data is copied or lost); 0002 then renames the tables."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('orgunits', '0002_responsibility'),
        ('dispatch', '0003_candidates_to_accountability'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='RollupState',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('banded_on', models.DateField(verbose_name='age bands as of')),
                    ],
                    options={
                        'verbose_name': 'live figures state',
                        'verbose_name_plural': 'live figures state',
                        'db_table': 'dispatch_rollupstate',
                    },
                ),
                migrations.CreateModel(
                    name='Rollup',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('residents', models.IntegerField(default=0, verbose_name='residents')),
                        ('target', models.IntegerField(default=0, verbose_name='target population')),
                        ('doses', models.IntegerField(default=0, verbose_name='doses given')),
                        ('first_dose', models.IntegerField(default=0, verbose_name='first dose')),
                        ('series_complete', models.IntegerField(default=0, verbose_name='series complete')),
                        ('booster', models.IntegerField(default=0, verbose_name='booster')),
                        ('sequential_booster', models.IntegerField(default=0, verbose_name='sequential booster')),
                        ('to_clear', models.IntegerField(default=0, verbose_name='to clear')),
                        ('band', models.CharField(choices=[('0-2', 'Under 3'), ('3-11', '3–11'), ('12-17', '12–17'), ('18-59', '18–59'), ('60-79', '60–79'), ('80+', '80 and over')], max_length=5, verbose_name='age band')),
                        ('path', models.CharField(max_length=255, verbose_name='path')),
                        ('county_code', models.CharField(max_length=6, verbose_name='county code')),
                        ('grid', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='orgunits.orgunit', verbose_name='grid')),
                    ],
                    options={
                        'verbose_name': 'live figures',
                        'verbose_name_plural': 'live figures',
                        'db_table': 'dispatch_rollup',
                        'indexes': [models.Index(fields=['path'], name='rollup_path_prefix', opclasses=['varchar_pattern_ops'])],
                        'constraints': [models.UniqueConstraint(fields=('grid', 'band'), name='rollup_leaf')],
                    },
                ),
            ],
        ),
    ]
