"""Bounds every input of the API and the forms is held to, so that a value the database
cannot hold (a 20-digit integer, the year 1, a 10,000-character reason) is refused with a
clear 422 instead of failing in the database as a server error."""

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, Field

#: The largest value of a PostgreSQL bigint (every primary key and visit number).
MAX_BIGINT = 2**63 - 1
#: Days a query or a form may name: the campaign's, not a typing error's.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)
#: Free text (notes, descriptions) longer than this is not a note.
NOTE_MAX = 2000

RecordId = Annotated[int, Field(ge=1, le=MAX_BIGINT)]
Day = Annotated[date, Field(ge=EARLIEST_DAY, le=LATEST_DAY)]
UnitCode = Annotated[str, Field(min_length=1, max_length=20)]


def _day_in_range(moment: datetime) -> datetime:
    if not EARLIEST_DAY <= moment.date() <= LATEST_DAY:
        raise ValueError(f"must lie between {EARLIEST_DAY} and {LATEST_DAY}")
    return moment


Moment = Annotated[datetime, AfterValidator(_day_in_range)]


def text(max_length: int):
    """A string of at most `max_length` characters."""
    return Annotated[str, Field(max_length=max_length)]
