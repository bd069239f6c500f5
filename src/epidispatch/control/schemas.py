"""The API shape of a key person's case (重点人员), shared by the control API's writes and
the key-person change feed (interop), so that both answer a case with the same fields."""

from datetime import date

from ninja import Schema

from .models import Category, Measure, Source


class CasePhaseOut(Schema):
    measure: Measure
    first: date
    last: date
    test_days: list[date]


class KeyPersonCaseOut(Schema):
    """The person (ID number and phone masked) and the case's measures as they stand."""

    person: int
    name: str
    id_number_masked: str
    phone_masked: str
    grid: str
    category: Category
    source: Source
    reference_date: date
    registered_on: date
    policy: str
    phases: list[CasePhaseOut]
    ends_on: date
