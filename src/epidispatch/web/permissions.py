"""What a user may open: one predicate per permission, each the very function the
guarded view checks. The navigation and every link to a guarded page show only when the
same predicate holds, so a link can never lead to a 403."""

from epidispatch.audit.permissions import audit_log_readable_by
from epidispatch.dispatch.permissions import reads_bulletins
from epidispatch.fieldwork.permissions import registers_checkpoints
from epidispatch.meetings.permissions import reads_meetings

#: name → predicate(user); templates read them as `may.<name>`.
PERMISSIONS = {
    "audit_log": audit_log_readable_by,
    "bulletins": reads_bulletins,
    "checkpoint": registers_checkpoints,
    "meetings": reads_meetings,
}


class Permissions:
    """`{% if may.audit_log %}` in a template: each predicate runs once per request, and
    only when a page asks for it."""

    def __init__(self, user):
        self._user = user
        self._known: dict[str, bool] = {}

    def __getitem__(self, name: str) -> bool:
        if name not in self._known:
            self._known[name] = bool(PERMISSIONS[name](self._user))
        return self._known[name]

    def allows(self, name: str | None) -> bool:
        """Whether the permission `name` holds (None: a page open to every user)."""
        return name is None or self[name]
