"""Schemathesis against the live application (werkzeug server, tests/browser.py) with a member's read-write
token: for every operation of /api/v1/openapi.json, generated requests never get a 5xx, and every answer
matches the schema the document gives it. Bounded (a few examples per operation) so that the suite stays fast."""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from app.extensions import db
from app.models import Role, User
from app.services import accounts, api_tokens
from tests.conftest import LUC_NGAN
from tests.browser import live_server  # noqa: F401 (fixture)
from tests.factories import product_with_batch

EXAMPLES_PER_OPERATION = 12
STARTS_A_WORKER = {("POST", "/api/v1/runs"), ("POST", "/api/v1/runs/{run_id}/retry")}


OFFICER_TAGS = {"listings"}  # the operations for commune officers; every other one is a cooperative member's


@pytest.mark.parametrize("role", ["member", "officer"])
def test_generated_requests_never_get_a_server_error_nor_break_the_schema(live_server, coop_a, role):
    product_with_batch(coop_a)  # something to find, so that some ids exist
    if role == "officer":
        user = accounts.create_user(name="Cán bộ xã", login="canbo@xa.vn", password="mat-khau-thu-nghiem",
                                    role=Role.OFFICER, commune_codes=[LUC_NGAN])
    else:
        user = db.session.scalar(db.select(User).where(User.login == "a@htx.vn"))
    headers = {"Authorization": f"Bearer {api_tokens.create_token(user.id, {'name': 'fuzz'}, True).secret}"}
    db.session.commit()
    schema = schemathesis.openapi.from_url(f"{live_server}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14
    operations = [op for op in operations if (role == "officer") == bool(set(op.tags or ()) & OFFICER_TAGS)]
    assert operations
    # Ordering or retrying a run starts a worker process that prints up to 100,000 stamps in the background:
    # tests/test_api_runs.py drives those two with the real worker instead.
    operations = [op for op in operations if (op.method.upper(), op.path) not in STARTS_A_WORKER]
    failures = []
    for operation in operations:
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def exercise(case):
            response = case.call(headers={**(case.headers or {}), **headers})
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

        try:
            exercise()
        except Exception as failure:  # every operation is tried; all failures are reported together
            failures.append(f"{operation.method.upper()} {operation.path}: {failure}")
    assert not failures, "\n\n".join(failures)
