"""`epidispatch import_hl7 FILE [--user NAME] [--json]` (DESIGN.md §8)."""

import json
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from epidispatch.accounts.models import User
from epidispatch.interop.services import vxu_messages_import


class Command(BaseCommand):
    help = "Store the doses of HL7 v2.5.1 VXU^V04 messages (one or more, MLLP framing optional)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="print one JSON object"
        )
        parser.add_argument(
            "--user", dest="username", help="import as this user, within their units"
        )

    def handle(self, *args, file: str, as_json: bool, username: str | None, **options):
        path = Path(file)
        text = _read(path)
        user = None
        if username is not None:
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None:
                raise CommandError(_("No active user %(name)s.") % {"name": username})
        try:
            result = vxu_messages_import(text=text, source_name=path.name, user=user)
        except PermissionDenied as error:
            raise CommandError(str(error)) from None
        if as_json:
            self.stdout.write(json.dumps(result.as_json(), ensure_ascii=False))
            return
        for answer in result.answers:
            self.stdout.write(answer.replace("\r", "\n"))
        self.stdout.write(
            _("%(messages)d messages: %(stored)d doses stored, %(unchanged)d unchanged, "
              "%(rejected)d messages rejected.")
            % result.as_json()
        )  # fmt: skip


def _read(path: Path) -> str:
    """The file's text (UTF-8, else GB18030), refused when missing or over the import size
    limit."""
    try:
        if path.stat().st_size > settings.EPIDISPATCH_IMPORT_MAX_BYTES:
            raise CommandError(_("The file is too large."))
        data = path.read_bytes()
    except OSError as error:
        raise CommandError(_("Cannot read %(path)s.") % {"path": path}) from error
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise CommandError(_("The file is neither UTF-8 nor GB18030 text.")) from None
