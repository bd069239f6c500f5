"""The control policy versions shipped (DESIGN.md §8), as data the admin can extend.

第九版: 新型冠状病毒肺炎防控方案（第九版）, 2022-06-28. 二十条: 关于进一步优化新冠肺炎疫情
防控措施 科学精准做好防控工作的通知, 2022-11-11. Test days are days of their phase: 第九版
密接 days 1, 2, 3, 5, 7 of centralized isolation and day 3 of home health monitoring; 二十条
密接 days 1, 2, 3, 5 and home isolation days 1 and 3.
"""

from datetime import date

from django.db import migrations

CLOSE_9 = [("centralized_isolation", 7, [1, 2, 3, 5, 7]), ("home_monitoring", 3, [3])]
CLOSE_20 = [("centralized_isolation", 5, [1, 2, 3, 5]), ("home_isolation", 3, [1, 3])]

POLICIES = [
    ("第九版", date(2022, 6, 28), "新型冠状病毒肺炎防控方案（第九版）", {
        "close_contact": CLOSE_9,
        "secondary_contact": [("home_isolation", 7, [1, 4, 7])],
        "high_risk_arrival": [("centralized_isolation", 7, [1, 2, 3, 5, 7])],
        "medium_risk_arrival": [("home_isolation", 7, [1, 4, 7])],
        "inbound": CLOSE_9,
    }, [("high", 7, "medium"), ("medium", 3, "low")]),
    ("二十条", date(2022, 11, 11), "进一步优化新冠肺炎疫情防控措施的二十条", {
        "close_contact": CLOSE_20,
        "high_risk_arrival": [("home_isolation", 7, [1, 2, 3, 5, 7])],
        "inbound": CLOSE_20,
    }, [("high", 5, "low")]),
]  # fmt: skip


def seed(apps, schema_editor):
    ControlPolicy = apps.get_model("control", "ControlPolicy")
    PolicyPhase = apps.get_model("control", "PolicyPhase")
    AreaRule = apps.get_model("control", "AreaRule")
    for name, effective_from, source, categories, area_rules in POLICIES:
        policy = ControlPolicy.objects.create(
            name=name, effective_from=effective_from, source=source
        )
        for category, phases in categories.items():
            for position, (measure, days, tests) in enumerate(phases, start=1):
                PolicyPhase.objects.create(
                    policy=policy, category=category, position=position, measure=measure,
                    days=days, test_days=tests,
                )  # fmt: skip
        for level, days, becomes in area_rules:
            AreaRule.objects.create(policy=policy, level=level, days=days, becomes=becomes)


def unseed(apps, schema_editor):
    apps.get_model("control", "ControlPolicy").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("control", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
