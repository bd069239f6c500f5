"""The schedule rules: from a resident's doses to where they stand.

One implementation, vectorised with polars, serves both the one dose a site records and
the million rows of an import: `derive` takes the doses of some residents (all of each
one's doses) and returns the derived fields of every dose and the status of every
resident. Nothing here reads the database except `load_rules`.

The rules, all of them data (Schedule, ScheduleStep, BoosterRule):
- The primary series is that of the product of the resident's lowest-numbered dose, as
  the schedule in force on that dose's day defines it.
- Dose N with N <= series length belongs to the series; the dose numbered as the series
  length (or any later one) completes it. Dose N > series length is booster N - length,
  sequential (序贯) when its platform differs from the series product's.
- Dose N+1 of the series may follow dose N after the step's minimum interval and is due
  at the latest on the step's day counted from the first dose: past that, it is overdue.
- Booster K is possible from the earliest day on which some rule for booster K is in
  force, the resident has its minimum age and its interval since the previous dose has
  passed.
"""

from dataclasses import dataclass
from datetime import date

import polars as pl

from .models import BoosterRule, Schedule, ScheduleStep, VaccineProduct

#: Columns `derive` needs for each dose.
DOSE_COLUMNS = ("resident_id", "dose_number", "product_id", "given_on")
#: Derived fields of a dose, as stored on Dose.
DOSE_FIELDS = ("booster_number", "completes_series", "sequential", "next_due_by")
#: Fields of VaccinationStatus (besides resident and county).
STATUS_FIELDS = (
    "doses",
    "series_product_id",
    "first_dose_on",
    "last_dose_on",
    "series_complete_on",
    "boosters",
    "booster_on",
    "sequential_booster",
    "next_dose_number",
    "next_due_from",
    "next_due_by",
)


@dataclass(frozen=True)
class Rules:
    platforms: dict[int, str]  # product id → platform
    schedules: dict[int, list[tuple[date, int, int]]]  # product → [(from, schedule, length)]
    steps: pl.DataFrame  # schedule_id, step, min_days, latest_days
    boosters: tuple[tuple[int, date, int, int], ...]  # (number, from, min age, min days)

    def schedule_for(self, product_id: int, first_dose_on: date) -> tuple[int, int]:
        """(schedule id, series length) in force on the day of the first dose; a dose
        given before the earliest version follows that version."""
        versions = self.schedules[product_id]
        chosen = versions[0]
        for version in versions:
            if version[0] <= first_dose_on:
                chosen = version
        return chosen[1], chosen[2]

    def booster_exists(self, number: int) -> bool:
        return any(rule[0] == number for rule in self.boosters)


def load_rules() -> Rules:
    schedules: dict[int, list[tuple[date, int, int]]] = {
        product_id: [] for product_id in VaccineProduct.objects.values_list("id", flat=True)
    }
    for schedule in Schedule.objects.order_by("effective_from"):
        schedules[schedule.product_id].append(
            (schedule.effective_from, schedule.id, schedule.series_doses)
        )
    steps = list(
        ScheduleStep.objects.values_list(
            "schedule_id", "dose_number", "min_days_after_previous", "latest_days_after_first"
        )
    )
    return Rules(
        platforms=dict(VaccineProduct.objects.values_list("id", "platform")),
        schedules=schedules,
        steps=pl.DataFrame(
            steps,
            schema={
                "schedule_id": pl.Int64,
                "step": pl.Int64,
                "min_days": pl.Int64,
                "latest_days": pl.Int64,
            },
            orient="row",
        ),
        boosters=tuple(
            BoosterRule.objects.values_list(
                "booster_number", "effective_from", "min_age_years", "min_days_after_previous"
            )
        ),
    )


def derive(doses: pl.DataFrame, birth_dates: pl.DataFrame, rules: Rules):
    """(dose fields, statuses) for the residents in `doses`.

    `doses` holds DOSE_COLUMNS for every dose of each resident concerned; `birth_dates`
    holds resident_id and birth_date. The first result has resident_id, dose_number and
    DOSE_FIELDS; the second resident_id and STATUS_FIELDS.
    """
    doses = (
        doses.select(
            pl.col("resident_id").cast(pl.Int64),
            pl.col("dose_number").cast(pl.Int64),
            pl.col("product_id").cast(pl.Int64),
            pl.col("given_on").cast(pl.Date),
        )
        .sort("resident_id", "dose_number")
        .with_columns(
            series_product_id=pl.col("product_id").first().over("resident_id"),
            first_on=pl.col("given_on").first().over("resident_id"),
        )
    )
    doses = _with_schedule(doses, rules)
    doses = doses.join(
        rules.steps, left_on=["schedule_id", "next_step"], right_on=["schedule_id", "step"],
        how="left",
    )  # fmt: skip
    in_series = pl.col("dose_number") < pl.col("series_doses")
    doses = doses.with_columns(
        booster_number=(pl.col("dose_number") - pl.col("series_doses")).clip(lower_bound=0),
        completes_series=pl.col("dose_number") >= pl.col("series_doses"),
        sequential=(pl.col("dose_number") > pl.col("series_doses"))
        & (_platform(pl.col("product_id"), rules) != _platform(pl.col("series_product_id"), rules)),
        next_due_by=pl.when(in_series).then(_plus_days("first_on", "latest_days")),
        next_due_from=pl.when(in_series).then(_plus_days("given_on", "min_days")),
    )
    dose_fields = doses.select("resident_id", "dose_number", *DOSE_FIELDS)
    statuses = _statuses(doses, birth_dates, rules)
    return dose_fields, statuses


def _with_schedule(doses: pl.DataFrame, rules: Rules) -> pl.DataFrame:
    pairs = doses.select("series_product_id", "first_on").unique()
    chosen = [rules.schedule_for(product, day) for product, day in pairs.iter_rows()]
    pairs = pairs.with_columns(
        schedule_id=pl.Series([c[0] for c in chosen], dtype=pl.Int64),
        series_doses=pl.Series([c[1] for c in chosen], dtype=pl.Int64),
    )
    return doses.join(pairs, on=["series_product_id", "first_on"], how="left").with_columns(
        next_step=pl.col("dose_number") + 1
    )


def _platform(product: pl.Expr, rules: Rules) -> pl.Expr:
    return product.replace_strict(rules.platforms, default=None, return_dtype=pl.String)


def _plus_days(day: str, days: str) -> pl.Expr:
    return pl.col(day) + pl.duration(days=pl.col(days))


def _statuses(doses: pl.DataFrame, birth_dates: pl.DataFrame, rules: Rules) -> pl.DataFrame:
    statuses = doses.group_by("resident_id").agg(
        doses=pl.len(),
        series_product_id=pl.col("series_product_id").first(),
        first_dose_on=pl.col("first_on").first(),
        last_dose_on=pl.col("given_on").max(),
        series_complete_on=pl.col("given_on").filter(pl.col("completes_series")).min(),
        booster_on=pl.col("given_on").filter(pl.col("booster_number") > 0).min(),
        sequential_booster=pl.col("sequential").any(),
        last_number=pl.col("dose_number").last(),
        last_on=pl.col("given_on").last(),
        series_doses=pl.col("series_doses").first(),
        series_next_from=pl.col("next_due_from").last(),
        series_next_by=pl.col("next_due_by").last(),
    )
    statuses = statuses.join(
        birth_dates.select(pl.col("resident_id").cast(pl.Int64), pl.col("birth_date")),
        on="resident_id",
        how="left",
    )
    boosters = (pl.col("last_number") - pl.col("series_doses")).clip(lower_bound=0)
    in_series = pl.col("last_number") < pl.col("series_doses")
    booster_from = _booster_from(boosters + 1, rules)
    return statuses.with_columns(
        boosters=boosters,
        next_dose_number=pl.when(in_series | booster_from.is_not_null()).then(
            pl.col("last_number") + 1
        ),
        next_due_from=pl.when(in_series).then("series_next_from").otherwise(booster_from),
        next_due_by=pl.when(in_series).then("series_next_by"),
    ).select("resident_id", *STATUS_FIELDS)


def _booster_from(number: pl.Expr, rules: Rules) -> pl.Expr:
    """The earliest day booster `number` may be given, or null when no rule allows it."""
    candidates = [
        pl.when(number == booster)
        .then(
            pl.max_horizontal(
                pl.lit(effective_from),
                pl.col("last_on") + pl.duration(days=min_days),
                pl.col("birth_date").dt.offset_by(f"{min_age}y"),
            )
        )
        .otherwise(None)
        for booster, effective_from, min_age, min_days in rules.boosters
    ]
    if not candidates:
        return pl.lit(None, dtype=pl.Date)
    return pl.min_horizontal(candidates)
