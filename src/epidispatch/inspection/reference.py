"""The categories of key places named by the seed documents, with a first checklist each
(version 1, in force from 2021-01-01). The office edits both afterwards; loading again
adds only what is missing. Used by the data migration and by the demo (whose database a
test may have emptied)."""

from datetime import date

COMMON = ["扫码查验（健康码、行程码）", "测温", "佩戴口罩", "通风消毒", "台账登记", "值守人员到岗"]

#: (category, items after the common ones)
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


def reference_data_load(apps) -> None:
    """Create the missing categories and the first checklist of those without one;
    `apps` is a migration's historical registry or django.apps.apps."""
    PlaceCategory = apps.get_model("inspection", "PlaceCategory")
    Checklist = apps.get_model("inspection", "Checklist")
    ChecklistItem = apps.get_model("inspection", "ChecklistItem")
    for order, (name, extra) in enumerate(CATEGORIES, start=1):
        category, _created = PlaceCategory.objects.get_or_create(
            name=name, defaults={"order": order}
        )
        if Checklist.objects.filter(category=category).exists():
            continue
        checklist = Checklist.objects.create(
            category=category, version=1, effective_from=date(2021, 1, 1)
        )
        ChecklistItem.objects.bulk_create(
            ChecklistItem(checklist=checklist, position=n, text=text)
            for n, text in enumerate(COMMON + extra, start=1)
        )
