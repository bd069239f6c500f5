"""The categories of key places named by the seed documents and a first checklist each
(version 1, in force from 2021-01-01); the office edits both afterwards."""

from datetime import date

from django.db import migrations

COMMON = ["扫码查验（健康码、行程码）", "测温", "佩戴口罩", "通风消毒", "台账登记", "值守人员到岗"]

#: (category, extra items after the common ones)
CATEGORIES = [
    ("公共场所", []),
    ("餐饮单位", ["餐具消毒", "从业人员健康监测"]),
    ("交通场站", ["二码联查", "落地人员登记"]),
    ("医疗机构", ["预检分诊", "院感防控"]),
    ("学校", ["晨午检", "因病缺课追踪"]),
    ("宾馆", ["入住人员登记"]),
    ("影院", ["限流、隔座"]),
    ("商场", ["限流"]),
    ("住宅小区查验点", ["二码联查"]),
    ("农贸市场", ["冷链食品查验"]),
    ("养老机构", ["封闭管理", "探视登记"]),
    ("企业", ["从业人员接种登记"]),
]


def seed(apps, schema_editor):
    PlaceCategory = apps.get_model("inspection", "PlaceCategory")
    Checklist = apps.get_model("inspection", "Checklist")
    ChecklistItem = apps.get_model("inspection", "ChecklistItem")
    for order, (name, extra) in enumerate(CATEGORIES, start=1):
        category, created = PlaceCategory.objects.get_or_create(
            name=name, defaults={"order": order}
        )
        if not created or Checklist.objects.filter(category=category).exists():
            continue
        checklist = Checklist.objects.create(
            category=category, version=1, effective_from=date(2021, 1, 1)
        )
        ChecklistItem.objects.bulk_create(
            ChecklistItem(checklist=checklist, position=n, text=text)
            for n, text in enumerate(COMMON + extra, start=1)
        )


class Migration(migrations.Migration):
    dependencies = [("inspection", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
