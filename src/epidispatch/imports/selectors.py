"""Reads of the import ledger, scoped like every read."""

from django.db.models import Q

from epidispatch.accounts.models import RoleAssignment
from epidispatch.core.scoping import scope_q

from .kinds import FileKind, file_kinds
from .models import ImportBatch


def import_batches_visible_to(user):
    """Batches the user may see: their own, and every batch whose scope (the deepest unit
    above everything it wrote, whoever or whatever started it) lies inside the user's
    scope, so a county dispatcher sees the towns' uploads and the command line's imports.

    A batch without a scope (it wrote under several counties, or nothing, for an uploader
    with several roots) is seen by its uploader only: its error report names residents.
    """
    return ImportBatch.objects.filter(Q(uploaded_by=user) | scope_q(user, "scope_path"))


def file_kinds_for(user) -> list[FileKind]:
    """The kinds of file the user may import."""
    roles = set(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))
    return [kind for kind in file_kinds() if roles.intersection(kind.roles)]
