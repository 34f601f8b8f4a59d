"""Property-based tests of API v1 against its own published schema (schemathesis 4): requests
generated from /api/v1/openapi.json, sent to the live Django WSGI app with a valid key, must never
get a server error. Bounded and derandomized so that the run is quick and repeatable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error

from spacebetween.measures.models import Assignment
from tests.api.conftest import IssuedKey

# Loaded once from the live app: the schema itself needs no database.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture(autouse=True)
def keep_the_test_connection() -> Iterator[None]:
    """The real WSGI handler closes the database connection after each request, which would end the
    test's transaction on PostgreSQL; Django's own test client disconnects these handlers the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def generous_rate_limit(settings: pytest.FixtureRequest) -> None:
    settings.API_KEY_RATE_PER_MINUTE = 10_000  # type: ignore[attr-defined]


@pytest.mark.django_db
@schema.parametrize()
@hypothesis_settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_the_schema_allows_gets_a_server_error(
    case: schemathesis.Case, api_key: IssuedKey, due_phq9: Assignment
) -> None:
    if case.path_parameters and "assignment_id" in case.path_parameters:
        # A random id is almost always 404; aim the generated answers at a real, due questionnaire
        # so that they reach validation, scoring and the risk rules.
        case.path_parameters["assignment_id"] = due_phq9.pk
    case.call_and_validate(
        headers={"Authorization": f"Bearer {api_key.plaintext}"}, checks=[not_a_server_error]
    )
