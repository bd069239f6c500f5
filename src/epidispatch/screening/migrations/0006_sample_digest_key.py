"""A person's samples in a round are found through (round, digest_key), the digest's first
60 bits as a bigint, instead of (round, id_number_digest), the 64-character digest: an
index a third of the size, which a round of a million samples no longer writes at random
places of 100 MB (bench/RESULTS.md, "Screening, round 3"). Existing rows get their key
here; the readers match the key and then the digest."""

from django.db import migrations, models

import epidispatch.screening.models

HEX = epidispatch.screening.models.DIGEST_KEY_HEX


def fill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "UPDATE screening_sample SET digest_key = "
            f"('x' || left(id_number_digest, {HEX}))::bit({HEX * 4})::bigint"
        )
        return
    Sample = apps.get_model("screening", "Sample")
    changed = []
    for sample in Sample.objects.only("id", "id_number_digest").iterator(chunk_size=2000):
        sample.digest_key = epidispatch.screening.models.digest_key(sample.id_number_digest)
        changed.append(sample)
    Sample.objects.bulk_update(changed, ["digest_key"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("screening", "0005_target_and_tube_fillfactor")]

    operations = [
        migrations.AddField(
            model_name="sample",
            name="digest_key",
            field=epidispatch.screening.models.DigestKeyField(
                default=0, editable=False, verbose_name="ID number lookup key prefix"
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="sample", name="sample_round_person"),
        migrations.AddIndex(
            model_name="sample",
            index=models.Index(
                fields=["round", "digest_key"], name="sample_round_person_key"
            ),
        ),
    ]
