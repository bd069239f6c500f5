"""Ranking candidates (连续排名靠后) become cases of the one accountability record.

Each AccountabilityCandidate is copied, with its decision and history, into an
accountability case whose cause is the ranking row that completed the streak; then the
old table goes.
"""

from django.db import migrations

STATES = {"pending": "proposed", "confirmed": "decided", "dismissed": "dismissed"}
MEASURES = {"coverage": "目标人群接种率", "target": "当日任务完成率"}


def forward(apps, schema_editor):
    Candidate = apps.get_model("dispatch", "AccountabilityCandidate")
    Ranking = apps.get_model("dispatch", "Ranking")
    Accountability = apps.get_model("accountability", "Accountability")
    Event = apps.get_model("accountability", "Event")
    ContentType = apps.get_model("contenttypes", "ContentType")
    ranking_type, _created = ContentType.objects.get_or_create(
        app_label="dispatch", model="ranking"
    )
    for candidate in Candidate.objects.select_related("snapshot").order_by("pk"):
        ranking = Ranking.objects.get(
            snapshot_id=candidate.snapshot_id,
            unit_id=candidate.unit_id,
            measure=candidate.measure,
        )
        state = STATES[candidate.state]
        case = Accountability.objects.create(
            unit_id=candidate.unit_id,
            kind="summons",
            state=state,
            cause="ranking_streak",
            cause_type=ranking_type,
            cause_id=ranking.pk,
            summary=f"{MEASURES.get(candidate.measure, candidate.measure)}"
            f"连续{candidate.streak}期排名靠后",
            streak=candidate.streak,
            decision=candidate.note,
            decided_by_id=candidate.decided_by_id,
            decided_at=candidate.decided_at,
            created_at=candidate.snapshot.taken_at,
        )
        Event.objects.create(case=case, at=candidate.snapshot.taken_at, state="proposed")
        if state != "proposed":
            Event.objects.create(
                case=case,
                at=candidate.decided_at or candidate.snapshot.taken_at,
                by_id=candidate.decided_by_id,
                state=state,
                note=candidate.note,
            )


class Migration(migrations.Migration):
    dependencies = [
        ("dispatch", "0002_responsibility_to_orgunits"),
        ("accountability", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(forward, migrations.RunPython.noop),
        migrations.DeleteModel(name="AccountabilityCandidate"),
    ]
