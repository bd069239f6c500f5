"""The Chinese COVID-19 vaccines, their schedules and the booster rules, as published.

Schedules: 新冠病毒疫苗接种技术指南(第一版), 2021-03-29. Boosters: 18+ six months after the
series (2021-10); 60+ three months after it (2022-11-29, 加强老年人新冠病毒疫苗接种工作方案);
a second booster for 60+ six months after the first (2022-12-14). CVX codes are CDC's
"Non-US" codes; WIBP has none. All of it stays editable in the admin.
"""

from datetime import date

from django.db import migrations

GUIDE_2021 = "新冠病毒疫苗接种技术指南（第一版）"
GUIDE_FROM = date(2021, 3, 29)

PRODUCTS = [
    # code, name, manufacturer, short names, platform, CVX, series, steps (n, min, latest)
    ("bibp", "新冠病毒灭活疫苗（Vero细胞）北京生物", "北京生物制品研究所有限责任公司",
     ["北京生物", "国药北京", "国药中生北京", "中生北京", "国药集团北京生物"],
     "inactivated", "510", 2, [(2, 21, 56)]),
    ("wibp", "新冠病毒灭活疫苗（Vero细胞）武汉生物", "武汉生物制品研究所有限责任公司",
     ["武汉生物", "国药武汉", "国药中生武汉", "中生武汉"],
     "inactivated", "", 2, [(2, 21, 56)]),
    ("coronavac", "新冠病毒灭活疫苗（Vero细胞）科兴", "北京科兴中维生物技术有限公司",
     ["科兴", "北京科兴", "科兴中维", "科兴生物"],
     "inactivated", "511", 2, [(2, 21, 56)]),
    ("kconvac", "新冠病毒灭活疫苗（Vero细胞）康泰", "深圳康泰生物制品股份有限公司",
     ["康泰", "深圳康泰", "康泰生物", "北京民海"],
     "inactivated", "516", 2, [(2, 28, 56)]),
    ("ad5-ncov", "重组新冠病毒疫苗（5型腺病毒载体）康希诺", "康希诺生物股份公司",
     ["康希诺", "康希诺生物", "康希诺生物股份有限公司", "克威莎"],
     "adenovirus_vector", "506", 1, []),
    ("zf2001", "重组新冠病毒蛋白疫苗（CHO细胞）智飞", "安徽智飞龙科马生物制药有限公司",
     ["智飞", "智飞龙科马", "安徽智飞", "智克威得"],
     "recombinant_protein", "513", 3, [(2, 28, 56), (3, 28, 180)]),
]  # fmt: skip

BOOSTERS = [
    (1, date(2021, 10, 1), 18, 180, "18岁以上完成全程接种满6个月加强免疫（2021-10）"),
    (1, date(2022, 11, 29), 60, 90, "加强老年人新冠病毒疫苗接种工作方案（2022-11-29）"),
    (2, date(2022, 12, 14), 60, 180, "第二剂次加强免疫接种实施方案（2022-12）"),
]


def seed(apps, schema_editor):
    VaccineProduct = apps.get_model("vaccination", "VaccineProduct")
    Schedule = apps.get_model("vaccination", "Schedule")
    ScheduleStep = apps.get_model("vaccination", "ScheduleStep")
    BoosterRule = apps.get_model("vaccination", "BoosterRule")
    for code, name, maker, shorts, platform, cvx, series, steps in PRODUCTS:
        product = VaccineProduct.objects.create(
            code=code, name=name, manufacturer=maker, short_names=shorts, platform=platform,
            cvx_code=cvx,
        )  # fmt: skip
        schedule = Schedule.objects.create(
            product=product, effective_from=GUIDE_FROM, series_doses=series, source=GUIDE_2021
        )
        for number, min_days, latest in steps:
            ScheduleStep.objects.create(
                schedule=schedule, dose_number=number, min_days_after_previous=min_days,
                latest_days_after_first=latest,
            )  # fmt: skip
    for number, effective_from, min_age, min_days, source in BOOSTERS:
        BoosterRule.objects.create(
            booster_number=number, effective_from=effective_from, min_age_years=min_age,
            min_days_after_previous=min_days, source=source,
        )  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [("vaccination", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
