"""The import ledger (ImportBatch): one row per file imported, from the command line, the
web or the API, whatever module declared the file's kind."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .kinds import file_kind_label, file_kinds


class ImportState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportBatch(models.Model):
    """One file imported.

    The row is written before the import starts and its counts when it ends; the data
    itself lands in one transaction, so a batch that never reached "done" stored nothing.
    `kind` names a declared file kind (`epidispatch.imports.kinds`); it has no fixed
    choices because every module adds its own. `pid`, `host` and `heartbeat_at` tell a
    running import from one whose process died (see `batches_fail_stale`).
    """

    kind = models.CharField(_("kind"), max_length=32)
    file_name = models.CharField(_("file name"), max_length=255)
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("imported by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    scope_path = models.CharField(
        _("scope"), max_length=255, blank=True, help_text=_("who may see this batch")
    )
    state = models.CharField(
        _("state"), max_length=8, choices=ImportState.choices, default=ImportState.QUEUED
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    pid = models.PositiveIntegerField(_("process id"), null=True, blank=True)
    host = models.CharField(_("host"), max_length=255, blank=True)
    rows_read = models.PositiveIntegerField(_("rows read so far"), default=0)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    stored = models.PositiveIntegerField(_("stored"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    extra_columns = models.JSONField(_("columns not imported"), default=list, blank=True)
    error_report = models.CharField(_("error report"), max_length=255, blank=True)
    message = models.TextField(_("message"), blank=True)
    #: The raw values of the kind's declared options (`kinds.Option`), e.g. {"round": "7"}:
    #: what the background import resolves, and what the ledger shows the file went into.
    options = models.JSONField(_("options"), default=dict, blank=True)

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.kind_label} {self.file_name} ({self.started_at:%Y-%m-%d %H:%M})"

    @property
    def kind_label(self) -> str:
        return file_kind_label(self.kind)

    @property
    def option_items(self) -> list[tuple[str, str]]:
        """(label, raw value) of the kind's declared options, for the batch page."""
        declared = next((kind for kind in file_kinds() if kind.name == self.kind), None)
        if declared is None:
            return []
        return [(str(o.label), str(self.options.get(o.name, ""))) for o in declared.options]
