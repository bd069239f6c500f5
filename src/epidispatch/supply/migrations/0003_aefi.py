"""AEFI reports in their home, with the reporting deadlines as data.

The reports field work filed as a placeholder (fieldwork.AdverseReactionReport) are copied
here, deadlines and all; fieldwork's 0002 then drops its table.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

#: (case, report within hours, investigation within hours): 全国疑似预防接种异常反应监测方案.
DEADLINES = [
    ("non_severe", 48, 48),
    ("severe", 2, 48),
    ("death", 2, 48),
    ("clustered", 2, 48),
]


def seed_deadlines(apps, schema_editor):
    AEFIDeadline = apps.get_model("supply", "AEFIDeadline")
    for case, report_hours, investigate_hours in DEADLINES:
        AEFIDeadline.objects.get_or_create(
            case=case,
            defaults={"report_hours": report_hours, "investigate_hours": investigate_hours},
        )


def copy_field_reports(apps, schema_editor):
    """Every placeholder report becomes an AEFI report still to be reported (the
    placeholder had no later stage), its deadline kept."""
    Old = apps.get_model("fieldwork", "AdverseReactionReport")
    AEFIReport = apps.get_model("supply", "AEFIReport")
    for old in Old.objects.select_related("dose").iterator():
        AEFIReport.objects.get_or_create(
            follow_up_id=old.follow_up_id,
            defaults={
                "dose_id": old.dose_id,
                "resident_id": old.dose.resident_id,
                "product_id": old.dose.product_id,
                "lot_number": old.dose.lot_number,
                "site_id": old.dose.site_id,
                "county_code": old.county_code,
                "severity": old.severity,
                "description": old.description,
                "discovered_at": old.discovered_at,
                "filed_by_id": old.reported_by_id,
                "report_due_by": old.report_due_by,
                "status": "discovered",
            },
        )


class Migration(migrations.Migration):

    dependencies = [
        ('orgunits', '0001_initial'),
        ('registry', '0002_resident_unvaccinated_reason_importbatch'),
        ('supply', '0002_ledger_guard_trace_indexes_reference_items'),
        ('vaccination', '0003_dose_resident_no_separate_index'),
        ('fieldwork', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AEFIDeadline',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('case', models.CharField(choices=[('non_severe', 'Not severe'), ('severe', 'Severe'), ('death', 'Death'), ('clustered', 'Clustered (群体性)')], max_length=12, unique=True, verbose_name='case')),
                ('report_hours', models.PositiveSmallIntegerField(verbose_name='report within hours')),
                ('investigate_hours', models.PositiveSmallIntegerField(verbose_name='investigation within hours')),
            ],
            options={
                'verbose_name': 'AEFI deadline',
                'verbose_name_plural': 'AEFI deadlines',
            },
        ),
        migrations.CreateModel(
            name='AEFIReport',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('lot_number', models.CharField(blank=True, max_length=40, verbose_name='lot number')),
                ('county_code', models.CharField(max_length=6, verbose_name='county code')),
                ('severity', models.CharField(choices=[('non_severe', 'Not severe'), ('severe', 'Severe'), ('death', 'Death')], max_length=12, verbose_name='severity')),
                ('clustered', models.BooleanField(default=False, verbose_name='clustered (群体性)')),
                ('description', models.TextField(verbose_name='description')),
                ('follow_up_id', models.BigIntegerField(blank=True, null=True, unique=True, verbose_name='found at follow-up')),
                ('discovered_at', models.DateTimeField(verbose_name='found at')),
                ('report_due_by', models.DateTimeField(verbose_name='report due by')),
                ('reported_at', models.DateTimeField(blank=True, null=True, verbose_name='reported at')),
                ('investigation_due_by', models.DateTimeField(blank=True, null=True, verbose_name='investigation due by')),
                ('investigation_started_at', models.DateTimeField(blank=True, null=True, verbose_name='investigation started at')),
                ('classification', models.CharField(blank=True, choices=[('common_reaction', 'Adverse reaction: common (不良反应·一般反应)'), ('rare_reaction', 'Adverse reaction: rare (不良反应·异常反应)'), ('vaccine_quality', 'Vaccine quality accident (疫苗质量事故)'), ('programme_error', 'Vaccination accident (接种事故)'), ('psychogenic', 'Psychogenic reaction (心因性反应)'), ('coincidental', 'Coincidental illness (偶合症)')], max_length=20, verbose_name='classification')),
                ('status', models.CharField(choices=[('discovered', 'Found, to be reported'), ('reported', 'Reported'), ('investigating', 'Under investigation'), ('classified', 'Classified'), ('closed', 'Closed')], default='discovered', max_length=16, verbose_name='status')),
                ('dose', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='vaccination.dose', verbose_name='dose')),
                ('filed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='found by')),
                ('product', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='vaccination.vaccineproduct', verbose_name='product')),
                ('resident', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='registry.resident', verbose_name='resident')),
                ('site', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='orgunits.orgunit', verbose_name='site')),
            ],
            options={
                'verbose_name': 'AEFI report',
                'verbose_name_plural': 'AEFI reports',
                'indexes': [models.Index(fields=['product', 'lot_number'], name='aefi_lot')],
            },
        ),
        migrations.RunPython(seed_deadlines, migrations.RunPython.noop),
        migrations.RunPython(copy_field_reports, migrations.RunPython.noop),
    ]
