"""Signals other apps listen to without vaccination knowing them."""

from django.dispatch import Signal

#: Sent inside `dose_record`'s transaction, after a site recorded a dose: `dose`, `by`.
#: Field work opens the 60+ observation follow-up from it (imported doses are history and
#: send nothing).
dose_recorded = Signal()

#: Sent inside `dose_correct`'s and `dose_delete`'s transaction, after a dose was corrected
#: or deleted: `resident`, `by`, `reason`. Certificates re-issue (and revoke) from it.
dose_changed = Signal()

#: Sent inside `dose_correct`'s transaction when a correction changed a dose's lot number
#: or trace code: `dose` (as stored now), `by`, `previous_lot_number`,
#: `previous_trace_code`. Supply checks the pack named now as at the site's table and moves
#: the stock movement of the dose to its lot; a refusal rolls the correction back.
dose_pack_changed = Signal()

#: Sent inside `doses_import`'s transaction, after a file's new doses were stored: `batch`.
#: Supply posts the administered stock moves of the batch's doses from it.
doses_imported = Signal()

#: Sent when a suspected adverse reaction (疑似预防接种异常反应) is found after a dose, as at
#: a 60+ follow-up: `dose`, `severity` ("non_severe", "severe" or "death"), `description`,
#: `discovered_at`, `by` and `follow_up_id` (None when it came another way). Supply files the
#: AEFI report, with its deadlines, from it.
adverse_reaction_suspected = Signal()
