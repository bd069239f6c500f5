"""Storing the doses of HL7 v2 VXU messages through the dose file's import.

Each message is one import of the `doses` kind (one ledger entry, one transaction, one
audit entry, the uploader's scope), built from its RXA segments instead of a file's rows:
the same validation, the same matching to residents in the caller's units and the same
idempotence (a dose already stored with the same day and product is unchanged), with no
second copy of those rules here. A message is all or nothing: when any of its doses is
refused, none is stored and it is answered AE.
"""

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from epidispatch.audit.models import AuditAction
from epidispatch.audit.services import audit_record
from epidispatch.core.scoping import holds_role_over
from epidispatch.imports.kinds import ROW, file_kind
from epidispatch.imports.permissions import may_import
from epidispatch.imports.services import import_batch_create, import_batch_run_table
from epidispatch.imports.tables import Frame
from epidispatch.orgunits.models import OrgUnit
from epidispatch.registry.permissions import UNMASK_ROLES
from epidispatch.vaccination.imports import COLUMNS
from epidispatch.vaccination.models import DoseSource

from . import hl7v2
from .selectors import unit_bundle_read

ACCEPTED, ERROR, REJECTED = "AA", "AE", "AR"


@dataclass
class VxuResult:
    """What `import_hl7 --json` prints: messages, doses stored and unchanged, messages
    rejected (AE or AR), and each message's ACK code; `answers` holds the ACK messages."""

    messages: int = 0
    stored: int = 0
    unchanged: int = 0
    rejected: int = 0
    acks: list[dict] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "messages": self.messages,
            "stored": self.stored,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "acks": self.acks,
        }


class _MessageRefusedDose(Exception):
    """Rolls back a message of which some doses were stored and one was refused."""


def vxu_messages_import(*, text: str, source_name: str, user=None) -> VxuResult:
    """Store the doses of every VXU^V04 message in `text`, each message on its own.

    `user` None is the command line of the server's administrator (the whole database);
    otherwise the doses of residents outside the user's units are refused, as in a file.
    Raises PermissionDenied when the user may not import dose files at all.
    """
    doses = file_kind("doses")
    if user is not None and not may_import(user, doses):
        raise PermissionDenied(_("You may not import %(kind)s files.") % {"kind": str(doses.label)})
    result = VxuResult()
    for message in hl7v2.messages_split(text):
        result.messages += 1
        code, reason, stored, unchanged = _message_import(message, source_name, user)
        result.stored += stored
        result.unchanged += unchanged
        result.rejected += code != ACCEPTED
        result.acks.append({"control_id": message.control_id, "code": code})
        result.answers.append(hl7v2.ack(message, code, reason))
    return result


def _message_import(message: hl7v2.Message, source_name: str, user):
    """(ACK code, reason, doses stored, doses unchanged) of one message."""
    try:
        hl7v2.message_parse(message)
        rows = hl7v2.dose_rows(message)
    except hl7v2.MessageRefused as refused:
        return REJECTED, str(refused), 0, 0
    if not rows:
        return ACCEPTED, "", 0, 0
    try:
        with transaction.atomic():
            batch = import_batch_create(
                kind="doses",
                path=Path(),
                file_name=f"{source_name} {message.control_id}",
                user=user,
            )
            summary = import_batch_run_table(
                batch, _table(rows), options={"dose_source": DoseSource.HL7}
            )
            if summary.rejected and summary.stored:
                raise _MessageRefusedDose
    except _MessageRefusedDose:
        pass
    if summary.rejected:
        error = min(summary.errors, key=lambda e: e.row)
        return ERROR, f"RXA #{error.row} {error.column}: {error.reason}", 0, 0
    return ACCEPTED, "", summary.stored, summary.unchanged + summary.duplicates


def _table(rows: list[dict[str, str]]) -> Frame:
    """The rows as a dose file with its official headers, RXA n on row n."""
    return Frame(
        headers=[column.header for column in COLUMNS],
        data=pl.DataFrame(
            {
                ROW: list(range(1, len(rows) + 1)),
                **{
                    str(index): [row.get(column.field, "") for row in rows]
                    for index, column in enumerate(COLUMNS)
                },
            },
            schema={ROW: pl.Int64, **{str(i): pl.String for i in range(len(COLUMNS))}},
        ),
    )


def unit_bundle(user, unit: OrgUnit, as_of: date, *, unmask: bool = False) -> dict:
    """The FHIR R4 Bundle of a unit (`selectors.unit_bundle_read`). Raises PermissionDenied
    when unmasking is asked for by a user without an unmasking role over the whole unit;
    an unmasked bundle is written to the audit log (`user` None: the server's
    administrator on the command line)."""
    if unmask and user is not None:
        if not holds_role_over(user, UNMASK_ROLES, unit.path):
            raise PermissionDenied(_("You may not see these residents' personal data."))
        audit_record(
            user=user,
            action=AuditAction.UNMASK_RESIDENT,
            subject=f"FHIR Bundle {unit.code} {as_of}",
            unit_path=unit.path,
        )
    return unit_bundle_read(user, unit, as_of, unmask=unmask)
