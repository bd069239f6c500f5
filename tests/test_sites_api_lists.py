"""The sites' API lists (roster, equipment, training) run a fixed number of queries
whatever their length, so a county with many posts or checks is not an N+1 away."""

from datetime import date, time
from decimal import Decimal

import pytest

from epidispatch.sites.models import StaffRole
from epidispatch.sites.services import (
    equipment_check_record,
    qualification_record,
    roster_assign,
    training_result_record,
    training_session_create,
)

from .sites_fixtures import *  # noqa: F403
from .sites_fixtures import equipment, staff_member

DAY = date(2026, 12, 3)


def fill(tree, dispatcher, size: int) -> None:
    for n in range(size):
        member = staff_member(tree, dispatcher, name=f"护士{n}")
        qualification_record(
            staff=member,
            role=StaffRole.VACCINATOR,
            passed_on=date(2026, 1, 1),
            expires_on=DAY,
            by=dispatcher,
        )
        roster_assign(
            staff=member,
            site=tree.site,
            role=StaffRole.VACCINATOR,
            day=DAY,
            starts_at=time(8),
            ends_at=time(12),
            by=dispatcher,
        )
        item = equipment(tree.site, dispatcher, label=f"{n + 1}号冰箱")
        equipment_check_record(
            equipment=item, temperature=Decimal("5.0"), working=True, by=dispatcher
        )
        session = training_session_create(
            unit=tree.county,
            title=f"培训{n}",
            role=StaffRole.VACCINATOR,
            held_on=date(2026, 1, 1),
            by=dispatcher,
        )
        training_result_record(training=session, staff=member, passed=True, by=dispatcher)


#: Each: the session, the user, the user's roles (scope), the site where there is one, the list.
@pytest.mark.parametrize("size", [1, 6])
@pytest.mark.parametrize(
    ("url", "queries"),
    [
        ("/api/v1/sites/{site}/roster?day=2026-12-03", 5),
        ("/api/v1/sites/{site}/equipment", 5),
        ("/api/v1/sites/training", 4),
    ],
)
def test_each_sites_api_list_runs_a_fixed_number_of_queries(
    client, tree, dispatcher, django_assert_num_queries, size, url, queries
):
    fill(tree, dispatcher, size)
    client.force_login(dispatcher)
    with django_assert_num_queries(queries):
        response = client.get(url.format(site=tree.site.code))
    assert response.status_code == 200
    assert len(response.json()) == size
