"""`spacebetween setup`: the practice, its first admin and a one-time sign-in link, once."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

from spacebetween.accounts.models import Role, SignInLink, User
from spacebetween.audit.models import AuditEvent, Entity
from spacebetween.crypto import token_hash
from spacebetween.practice.models import Practice

pytestmark = pytest.mark.django_db

FLAGS = {
    "practice_name": "Willow Lane Therapy",
    "country": "ie",
    "time_zone": "Europe/Dublin",
    "admin_name": "Ann Admin",
    "admin_email": "Ann@Example.org",
    "yes": True,
}
LINK = re.compile(r"(https?://\S+/welcome/([A-Za-z0-9_\-]+)/)")


def setup(**options: object) -> str:
    out = io.StringIO()
    call_command("setup", stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def nothing_written() -> None:
    assert not Practice.objects.exists()
    assert not User.objects.exists()
    assert not SignInLink.objects.exists()
    assert not AuditEvent.objects.exists()


def test_creates_the_practice_and_admin_and_prints_a_link(settings) -> None:  # type: ignore[no-untyped-def]
    settings.SITE_URL = "https://practice.example.org/"
    out = setup(**FLAGS)
    practice = Practice.objects.get()
    assert (practice.name, practice.country, practice.time_zone) == (
        "Willow Lane Therapy",
        "IE",
        "Europe/Dublin",
    )
    admin = User.objects.get()
    assert (admin.email, admin.full_name, admin.role) == ("ann@example.org", "Ann Admin", Role.ADMIN)
    assert admin.practice == practice and not admin.has_usable_password() and not admin.is_demo_account
    url, token = LINK.search(out).groups()  # type: ignore[union-attr]
    assert url.startswith("https://practice.example.org/welcome/")
    link = SignInLink.objects.get()
    assert link.token_hash == token_hash(token) and token not in link.token_hash
    assert (link.expires_at - link.created_at).total_seconds() == 72 * 3600
    assert "--reissue-link ann@example.org" in out
    types = set(AuditEvent.objects.values_list("entity_type", flat=True))
    assert {Entity.PRACTICE, Entity.USER, Entity.SIGN_IN_LINK} <= types


def test_a_second_run_refuses_without_another_practice() -> None:
    setup(**FLAGS)
    with pytest.raises(CommandError, match="already has a practice"):
        setup(**{**FLAGS, "admin_email": "other@example.org"})
    assert Practice.objects.count() == 1 and User.objects.count() == 1
    setup(**{**FLAGS, "admin_email": "other@example.org", "another_practice": True})
    assert Practice.objects.count() == 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("country", "ZZ", "--country"),
        ("country", "GBR", "--country"),
        ("time_zone", "Europe/Atlantis", "--time-zone"),
        ("admin_email", "not-an-address", "--admin-email"),
        ("practice_name", "  ", "--practice-name"),
        ("admin_name", "", "--admin-name"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(field: str, value: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        setup(**{**FLAGS, field: value})
    nothing_written()


def test_missing_values_without_a_terminal_are_refused() -> None:
    with pytest.raises(CommandError, match="--admin-email"):
        setup(**{k: v for k, v in FLAGS.items() if k != "admin_email"})
    nothing_written()


def test_an_address_with_an_account_is_refused_and_nothing_written() -> None:
    setup(**FLAGS)
    before = AuditEvent.objects.count()
    with pytest.raises(CommandError, match="--admin-email"):
        setup(**{**FLAGS, "admin_email": "ANN@example.org", "another_practice": True})
    assert Practice.objects.count() == 1 and AuditEvent.objects.count() == before


def test_interactive_prompts(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(
        ["Quiet Harbour", "", "Mars/Olympus", "Europe/London", "Sam Admin", "sam@example.org", "y"]
    )
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    out = setup()
    practice = Practice.objects.get()
    assert (practice.name, practice.country, practice.time_zone) == ("Quiet Harbour", "GB", "Europe/London")
    assert LINK.search(out)


def test_reissue_revokes_earlier_links() -> None:
    first = LINK.search(setup(**FLAGS)).group(2)  # type: ignore[union-attr]
    second = LINK.search(setup(reissue_link="ann@EXAMPLE.org")).group(2)  # type: ignore[union-attr]
    assert first != second
    old, new = SignInLink.objects.order_by("pk")
    assert old.revoked_at is not None and new.revoked_at is None and new.token_hash == token_hash(second)
    with pytest.raises(CommandError, match="no active staff account"):
        setup(reissue_link="nobody@example.org")
