"""What the .docx and the .xlsx share: an Office Open XML package made byte-identical for
the same bulletin (the snapshot's timestamps, zip entries in a fixed order and date)."""

import io
import re
import zipfile
from datetime import UTC, datetime

from django.utils import timezone

CORE_DATES = re.compile(
    rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)",
)


def fixed_package(data: bytes, moment: datetime) -> bytes:
    """Rewrite an OOXML zip so that the same content always gives the same bytes: the
    core properties' dates set to `moment`, entries in a fixed order with its date."""
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    local = timezone.localtime(moment)
    date_time = (local.year, local.month, local.day, local.hour, local.minute, 0)
    output = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        names = sorted(source.namelist(), key=lambda n: (n != "[Content_Types].xml", n))
        for name in names:
            payload = source.read(name)
            if name == "docProps/core.xml":
                payload = CORE_DATES.sub(lambda m: m.group(1) + stamp + m.group(3), payload)
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            target.writestr(info, payload, compresslevel=6)
    return output.getvalue()


def utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)
