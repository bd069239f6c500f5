"""Fixtures shared by the certificate tests (tests/test_certificates_*.py)."""

import pytest

from .fieldwork_fixtures import give_dose

__all__ = ["_keys_dir", "vaccinated"]


@pytest.fixture(autouse=True)
def _keys_dir(settings, tmp_path):
    """Each test signs with keys of its own, in a folder of its own."""
    settings.EPIDISPATCH_KEYS_DIR = tmp_path / "keys"
    return settings.EPIDISPATCH_KEYS_DIR


@pytest.fixture
def vaccinated(tree, resident, site_staff, coronavac):
    """张三 with the two CoronaVac doses of the primary series, 60 and 30 days ago."""
    give_dose(resident, tree.site, site_staff, coronavac, days_ago=60)
    give_dose(resident, tree.site, site_staff, coronavac, days_ago=30)
    return resident
