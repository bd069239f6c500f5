"""Signals other apps listen to without vaccination knowing them."""

from django.dispatch import Signal

#: Sent inside `dose_record`'s transaction, after a site recorded a dose: `dose`, `by`.
#: Field work opens the 60+ observation follow-up from it (imported doses are history and
#: send nothing).
dose_recorded = Signal()

#: Sent inside `dose_correct`'s and `dose_delete`'s transaction, after a dose was corrected
#: or deleted: `resident`, `by`, `reason`. Certificates re-issue (and revoke) from it.
dose_changed = Signal()
