"""API keys: created by the practice admin and shown once; only a SHA-256 of the secret is kept;
revoked keys and session cookies get 401; a key is limited to N requests a minute (429)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from spacebetween.accounts.models import User
from spacebetween.api import services
from spacebetween.api.models import ApiKey, ApiKeyWindow
from spacebetween.audit.models import AuditEvent
from spacebetween.measures.models import Assignment, AssignmentStatus, Response
from tests.api.conftest import IssuedKey, bearer, phq9
from tests.conftest import signed_in

ASSIGNMENTS = "/api/v1/assignments"


def test_the_admin_creates_a_key_and_sees_it_once(admin: User) -> None:
    http = signed_in(admin)
    response = http.post(reverse("api_keys"), {"name": "Survey tool"})
    assert response.status_code == 200
    key = ApiKey.objects.get()
    plaintext = response.context["new_key"]
    assert plaintext.startswith(f"sb_{key.prefix}_")
    assert plaintext in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    again = http.get(reverse("api_keys"))
    assert plaintext not in again.content.decode()
    assert key.prefix in again.content.decode()


def test_only_a_hash_of_the_secret_is_stored(api_key: IssuedKey) -> None:
    key = ApiKey.objects.get(pk=api_key.key.pk)
    secret = api_key.plaintext.split("_", 2)[2]
    assert len(secret) >= 43  # 32 random bytes, URL-safe base64
    assert key.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = [str(v) for v in ApiKey.objects.filter(pk=key.pk).values_list().get()]
    assert not any(secret in value for value in stored)


def test_creating_a_key_is_audited(api_key: IssuedKey, admin: User) -> None:
    assert AuditEvent.objects.filter(
        entity_type="ApiKey", entity_id=str(api_key.key.pk), action="C", actor_id=admin.pk
    ).exists()


def test_a_therapist_cannot_open_the_keys_page(alice: User) -> None:
    assert signed_in(alice).get(reverse("api_keys")).status_code == 403


def test_a_key_needs_a_name(admin: User) -> None:
    response = signed_in(admin).post(reverse("api_keys"), {"name": " "})
    assert response.status_code == 400
    assert not ApiKey.objects.exists()


def test_a_live_key_is_accepted_and_its_use_recorded(api: HttpClient, api_key: IssuedKey) -> None:
    assert api.get(ASSIGNMENTS).status_code == 200
    api_key.key.refresh_from_db()
    assert api_key.key.last_used_at is not None


def test_a_keys_last_use_is_written_once_a_minute_not_on_every_call(
    api: HttpClient, api_key: IssuedKey
) -> None:
    assert api.get(ASSIGNMENTS).status_code == 200
    first = ApiKey.objects.get(pk=api_key.key.pk).last_used_at
    assert api.get(ASSIGNMENTS).status_code == 200
    assert ApiKey.objects.get(pk=api_key.key.pk).last_used_at == first
    earlier = dt.datetime.now(dt.UTC) - services.LAST_USED_RESOLUTION
    ApiKey.objects.filter(pk=api_key.key.pk).update(last_used_at=earlier)
    assert api.get(ASSIGNMENTS).status_code == 200
    assert ApiKey.objects.get(pk=api_key.key.pk).last_used_at > earlier  # type: ignore[operator]


def test_a_revoked_key_is_refused(admin: User, api_key: IssuedKey) -> None:
    response = signed_in(admin).post(reverse("api_key_revoke", kwargs={"key_id": api_key.key.pk}))
    assert response.status_code == 302
    api_key.key.refresh_from_db()
    assert api_key.key.revoked_at is not None
    refused = bearer(api_key.plaintext).get(ASSIGNMENTS)
    assert refused.status_code == 401
    assert refused.json()["errors"] == []
    assert refused["WWW-Authenticate"] == "Bearer"
    assert AuditEvent.objects.filter(
        event_type="access-denied", entity_type="ApiKey", entity_id=str(api_key.key.pk)
    ).exists()


def test_another_practice_admin_cannot_revoke_our_key(api_key: IssuedKey, oscar_key: IssuedKey) -> None:
    hilltop_admin = oscar_key.key.created_by
    response = signed_in(hilltop_admin).post(reverse("api_key_revoke", kwargs={"key_id": api_key.key.pk}))
    assert response.status_code == 404
    api_key.key.refresh_from_db()
    assert api_key.key.revoked_at is None


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer sb_deadbeef_not-the-secret"],
)
def test_a_missing_or_wrong_key_is_refused(api_key: IssuedKey, header: str | None) -> None:
    http = HttpClient(headers={"Authorization": header} if header else {})
    response = http.get(ASSIGNMENTS)
    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_wrong_secret_with_a_real_prefix_is_refused(api_key: IssuedKey) -> None:
    forged = f"sb_{api_key.key.prefix}_{'A' * 43}"
    assert bearer(forged).get(ASSIGNMENTS).status_code == 401


def test_a_signed_in_session_is_not_an_api_credential(alice: User) -> None:
    assert signed_in(alice).get(ASSIGNMENTS).status_code == 401


def test_requests_over_the_limit_get_429(api: HttpClient, settings: pytest.FixtureRequest) -> None:
    settings.API_KEY_RATE_PER_MINUTE = 3  # type: ignore[attr-defined]
    codes = [api.get(ASSIGNMENTS).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = api.get(ASSIGNMENTS)
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert set(limited.json()) == {"detail", "errors"}


def test_a_submission_over_the_limit_stores_nothing(
    api: HttpClient, due_phq9: Assignment, settings: pytest.FixtureRequest
) -> None:
    settings.API_KEY_RATE_PER_MINUTE = 1  # type: ignore[attr-defined]
    assert api.get(ASSIGNMENTS).status_code == 200
    events = AuditEvent.objects.count()
    refused = api.post(
        f"{ASSIGNMENTS}/{due_phq9.pk}/responses", {"answers": phq9(item9=0)}, content_type="application/json"
    )
    assert refused.status_code == 429
    assert not Response.objects.exists()
    due_phq9.refresh_from_db()
    assert due_phq9.status == AssignmentStatus.DUE
    assert AuditEvent.objects.count() == events
    assert ApiKeyWindow.objects.get().count == 1


def test_the_limit_is_per_key(api: HttpClient, oscar_key: IssuedKey, settings: pytest.FixtureRequest) -> None:
    settings.API_KEY_RATE_PER_MINUTE = 1  # type: ignore[attr-defined]
    assert api.get(ASSIGNMENTS).status_code == 200
    assert api.get(ASSIGNMENTS).status_code == 429
    assert bearer(oscar_key.plaintext).get(ASSIGNMENTS).status_code == 200


def test_revoking_twice_is_refused(admin: User, api_key: IssuedKey) -> None:
    services.api_key_revoke(actor=admin, key=api_key.key)
    with pytest.raises(Exception, match="already been revoked"):
        services.api_key_revoke(actor=admin, key=api_key.key)


def test_only_the_current_minute_is_counted_and_kept(api_key: IssuedKey) -> None:
    minute = dt.datetime(2026, 11, 1, 9, 0, 30, tzinfo=dt.UTC)
    assert services.rate_limit_take(key=api_key.key, now=minute)
    assert services.rate_limit_take(key=api_key.key, now=minute + dt.timedelta(minutes=1))
    [window] = ApiKeyWindow.objects.filter(key=api_key.key)
    assert (window.window_start, window.count) == (dt.datetime(2026, 11, 1, 9, 1, tzinfo=dt.UTC), 1)
