"""Calendar arithmetic used by ages and schedules.

A birthday on 29 February falls on 28 February in other years (as polars' `offset_by`
and dateutil do), so someone born on 2004-02-29 is 18 on 2022-02-28.
"""

import calendar
from datetime import date


def add_years(day: date, years: int) -> date:
    year = day.year + years
    if day.month == 2 and day.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return day.replace(year=year)


def latest_birth_date_for_age(on: date, years: int) -> date:
    """The latest birth date of someone at least `years` old on `on`:
    `add_years(birth, years) <= on` exactly when `birth <= latest_birth_date_for_age(...)`."""
    year = on.year - years
    if (on.month, on.day) == (2, 28) and calendar.isleap(year) and not calendar.isleap(on.year):
        return date(year, 2, 29)
    if (on.month, on.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 2, 28)
    return on.replace(year=year)
