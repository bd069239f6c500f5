"""The hook through which other modules propose contacts of a positive case.

Control does not know how screening stores its tubes. When a positive case is recorded,
`contact_candidates_wanted` is sent with the positive person's ID-number lookup digest and
the day they were found; a receiver (the screening module: the other members of the
person's positive pooled tubes) answers with a list of `Proposal`s.
"""

from dataclasses import dataclass
from datetime import date

from django.dispatch import Signal

#: sent with `id_number_digest` (str) and `found_on` (date); receivers return list[Proposal].
contact_candidates_wanted = Signal()


@dataclass(frozen=True)
class Proposal:
    reason: str  # a CandidateReason value
    #: the person's ID number as `epidispatch.core.protection` keeps it: never in clear
    id_number_digest: str
    id_number_encrypted: str
    id_number_masked: str
    name: str
    exposed_on: date
    detail: str = ""


#: sent by the module that learns a person's nucleic-acid result (screening) with
#: `id_number_digest` (str), `day` (date), `result` ("negative" or "positive") and `source`
#: (str); control records it on the person's cases under measures that day.
test_result_reported = Signal()

#: The batch form of `test_result_reported`, for a lab file of many tubes: sent once per
#: batch with `results`, a lazy QuerySet whose rows have `id_number_digest` (str), `day`
#: (date) and `result` ("negative" or "positive"), and `source` (str). Receivers narrow it
#: in SQL (`results.filter(id_number_digest__in=…)`) and read only the rows they need, so a
#: file of 100,000 tubes costs one query here rather than a million signals.
test_results_reported = Signal()
