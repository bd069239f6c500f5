"""Two people changing the tree at the same moment: one wins, the other is told why,
and the tree stays whole."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from epidispatch.orgunits.models import OrgUnit, UnitKind
from epidispatch.orgunits.services import unit_create

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_simultaneous_creations_of_one_code_store_it_once(tree):
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def create(name: str) -> None:
        try:
            barrier.wait(timeout=10)
            unit_create(code="621121105000", name=name, kind=UnitKind.TOWN, parent_code="621121")
            outcomes.append("created")
        except ValidationError as error:
            outcomes.append(" ".join(error.messages))
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(name,)) for name in ("义岗川镇", "义岗川乡")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["created", "该编码的组织机构已存在。"]
    assert OrgUnit.objects.filter(code="621121105000").count() == 1
