"""The API against its own OpenAPI spec (schemathesis): every operation, called with
generated input as a dispatcher and as a grid worker, never answers a server error and
always answers what the spec says (status, content type, body)."""

import importlib
import pkgutil
from datetime import timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from ninja import Schema
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import epidispatch
from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create
from epidispatch.registry.services import resident_create
from epidispatch.vaccination.models import VaccineProduct
from epidispatch.vaccination.services import dose_record

from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())

#: The HL7 endpoint takes raw ER7 text (no JSON schema to generate from): a well-formed VXU,
#: a truncated one and arbitrary bytes, framed with MLLP or not.
VXU = (
    "MSH|^~\\&|SRC|FAC|EPI|CDC|20210601120000||VXU^V04^VXU_V04|MSG1|P|2.5.1\r"
    "PID|1||110101199003070011^^^^NNCHN||张三\r"
    "RXA|0|1|20210501||^北京科兴中维生物技术有限公司|1|||||||||202105A\r"
)
schemathesis.openapi.media_type(
    "x-application/hl7-v2+er7",
    st.one_of(
        st.sampled_from([VXU.encode(), VXU[:60].encode(), b"\x0b" + VXU.encode() + b"\x1c\r"]),
        st.binary(max_size=300),
    ),
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def _one_connection():
    """Called as a WSGI app, Django closes the database connection after each request;
    keep the test's (its transaction holds the data), as Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(tree, make_user, _one_connection):
    """A dispatcher of the county and a grid worker, with a resident aged 60+ who had a
    dose (so rounds, visits and follow-ups have something to answer)."""
    dispatcher = make_user(Role.DISPATCHER, tree.county)
    worker = make_user(Role.GRID_WORKER, tree.grid)
    staff = make_user(Role.SITE_STAFF, tree.site)
    resident = resident_create(
        name="牛建国", id_number=id_number(1, "19500101"), phone="13812345678", grid=tree.grid
    )
    dose_record(
        resident=resident,
        product=VaccineProduct.objects.get(code="coronavac"),
        given_on=timezone.localdate() - timedelta(days=1),
        site=tree.site,
        by=staff,
    )
    return [api_token_create(user=user, name="schemathesis")[1] for user in (dispatcher, worker)]


def test_the_spec_names_each_schema_once_and_documents_the_errors(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert "SubunitOut" in spec["components"]["schemas"]
    assert "DashboardChildOut" in spec["components"]["schemas"]
    unit = spec["paths"]["/api/v1/units/{code}"]["get"]
    assert set(unit["responses"]) >= {"200", "401", "404", "422"}


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_a_server_error_or_outside_its_spec(case, tokens):
    for token in tokens:
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)


def test_no_two_schemas_of_the_api_share_a_name():
    """The spec keys its components by class name: two schemas of one name leave one
    operation documented with the other's body (a response outside its spec)."""
    owners: dict[str, list[str]] = {}
    for info in pkgutil.iter_modules(epidispatch.__path__):
        for part in ("api", "schemas"):
            try:
                module = importlib.import_module(f"epidispatch.{info.name}.{part}")
            except ModuleNotFoundError:
                continue
            for name, value in vars(module).items():
                if (
                    isinstance(value, type)
                    and issubclass(value, Schema)
                    and value.__module__ == module.__name__
                ):
                    owners.setdefault(name, []).append(module.__name__)
    clashes = {name for name, modules in owners.items() if len(modules) > 1}
    assert not clashes, {name: owners[name] for name in clashes}
