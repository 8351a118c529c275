"""Schemathesis against the served OpenAPI schema, through the WSGI app with a real API token:
every operation, a bounded number of generated requests each; no 5xx, no response outside the schema.

The data (the shared test base's units and users, two incidents, a leader's write token) is created
once for the module inside a transaction that is rolled back at the end; each operation's test runs
in a savepoint inside it (pytest-django's `db`), so operations do not see each other's writes.
"""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.db import close_old_connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from opinion_ops.wsgi import application

EXAMPLES_PER_OPERATION = 15
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)


@pytest.fixture(scope="module")
def api_headers(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dict[str, str]]:
    from incidents.services import incidents as svc
    from integrations.models import ApiToken
    from integrations.tokens import api_token_issue
    from opinion_ops.testing import BaseTestCase as World
    from organizations.models import Membership

    # As django.test.Client does: a request must not close the connection holding the test transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            cache.clear()
            World.setUpTestData()
            Membership.objects.filter(user=World.alice).update(is_unit_admin=True)
            now = timezone.now()
            incident = svc.incident_create(
                actor=World.bob, title="网传某校食堂问题", discovered_at=now - timedelta(minutes=9)
            )
            svc.incident_start_assessment(incident_id=incident.pk, actor=World.ann)
            svc.incident_create(actor=World.bob, title="另一条舆情", discovered_at=now - timedelta(minutes=5))
            _token, raw = api_token_issue(
                organization=World.unit,
                name="schemathesis",
                user=World.alice,
                scope=ApiToken.Scope.WRITE,
                rate_limit_per_minute=6000,
            )
            yield {"Authorization": f"Bearer {raw}"}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case: Any, api_headers: dict[str, str], db: Any) -> None:
    case.call_and_validate(headers=api_headers, checks=CHECKS)
