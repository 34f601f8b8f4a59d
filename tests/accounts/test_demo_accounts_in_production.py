"""Demo accounts have a published password (Go live, item 11.2): in production they cannot sign in,
and `check --deploy` fails while any exists."""

from __future__ import annotations

import html

import pytest
from django.core import checks
from django.test import Client as HttpClient

from spacebetween.accounts import signin
from spacebetween.accounts.models import Role, User
from spacebetween.accounts.services import user_create
from spacebetween.audit.models import AuditEvent, Outcome
from spacebetween.practice.models import Practice
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

DEMO_CHECK = "spacebetween.accounts.E001"


@pytest.fixture
def demo_therapist(practice: Practice) -> User:
    return user_create(
        practice=practice,
        email="demo.therapist@example.org",
        full_name="Demo Therapist",
        role=Role.THERAPIST,
        password=PASSWORD,
        is_demo_account=True,
    )


def _sign_in(http: HttpClient, user: User):  # type: ignore[no-untyped-def]
    return http.post("/login/", {"email": user.email, "password": PASSWORD})


def test_a_demo_account_signs_in_outside_production(client, demo_therapist, settings, clock) -> None:
    settings.PRODUCTION = False
    assert _sign_in(client, demo_therapist).status_code == 302


def test_a_demo_account_is_refused_in_production(client, demo_therapist, settings, clock) -> None:
    settings.PRODUCTION, settings.ALLOW_DEMO_ACCOUNTS = True, False
    response = _sign_in(client, demo_therapist)
    assert response.status_code == 200
    assert signin.INVALID_LOGIN in html.unescape(response.content.decode())
    assert "_auth_user_id" not in client.session
    refusal = AuditEvent.objects.filter(event_type="login", actor_id=demo_therapist.pk).get()
    assert (refusal.outcome, refusal.detail) == (Outcome.MINOR_FAILURE, "demo-account-in-production")


def test_a_demo_client_is_refused_in_production_too(client, practice, settings, clock) -> None:
    settings.PRODUCTION, settings.ALLOW_DEMO_ACCOUNTS = True, False
    demo_client = user_create(
        practice=practice,
        email="demo.client@example.org",
        full_name="Demo Client",
        role=Role.CLIENT,
        password=PASSWORD,
        is_demo_account=True,
    )
    assert "_auth_user_id" not in _sign_in(client, demo_client).wsgi_request.session


def test_other_accounts_still_sign_in_in_production(client, carol_user, settings, clock) -> None:
    settings.PRODUCTION, settings.ALLOW_DEMO_ACCOUNTS = True, False
    assert _sign_in(client, carol_user).status_code == 302


def _deploy_issues() -> list[str]:
    return [m.id or "" for m in checks.run_checks(include_deployment_checks=True)]


def test_the_deploy_check_fails_while_a_demo_account_exists_in_production(demo_therapist, settings) -> None:
    settings.PRODUCTION = True
    found = [m for m in checks.run_checks(include_deployment_checks=True) if m.id == DEMO_CHECK]
    assert len(found) == 1
    assert found[0].level == checks.ERROR
    assert "1 demo account" in found[0].msg


def test_the_deploy_check_passes_without_demo_accounts(admin, settings) -> None:
    settings.PRODUCTION = True
    assert DEMO_CHECK not in _deploy_issues()


def test_the_deploy_check_is_silent_outside_production(demo_therapist, settings) -> None:
    settings.PRODUCTION = False
    assert DEMO_CHECK not in _deploy_issues()


def test_the_ordinary_check_does_not_look_for_demo_accounts(demo_therapist, settings) -> None:
    settings.PRODUCTION = True
    assert DEMO_CHECK not in [m.id for m in checks.run_checks()]
