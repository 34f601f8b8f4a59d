"""Invitations (staff, client portal), password reset by e-mail, and the therapist's consent to a new
supervisor (docs/security.md, "Invitations and password reset"; the finding of issue #16)."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re

import pytest
from django.contrib.sessions.models import Session as DjangoSession
from django.core.management import call_command
from django.test import Client as HttpClient

from spacebetween.accounts import invitations, services
from spacebetween.accounts.models import LinkPurpose, Role, SignInLink, TotpDevice, User, UserSession
from spacebetween.accounts.views import SUPERVISION_CHOOSE
from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical
from spacebetween.clients.access import episodes_for
from spacebetween.clients.models import Client, Episode
from spacebetween.notifications.models import OutboxMessage
from tests.accounts.conftest import enrolled, sign_in, totp_now
from tests.conftest import FakeClock, share_for_supervision, signed_in
from tests.notifications.conftest import SmtpSink, smtp_down, smtp_sink  # noqa: F401

pytestmark = pytest.mark.django_db

RESET = "/account/password/reset/"
NEW_PASSWORD = "a brand new passphrase 77"  # noqa: S105
LINK = re.compile(r"/welcome/([A-Za-z0-9_\-]+)/")


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.content.decode())


def _mails(to: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(to_address=to).order_by("pk"))


def _token(message: OutboxMessage) -> str:
    found = LINK.search(message.body())
    assert found, "the e-mail carries a link"
    return found.group(1)


def _follow(token: str, password: str = NEW_PASSWORD, http: HttpClient | None = None):  # type: ignore[no-untyped-def]
    """Open the link, press Start, choose the password; returns the browser and the last answer."""
    http = http or HttpClient()
    assert http.get(f"/welcome/{token}/").status_code == 200
    assert http.post(f"/welcome/{token}/")["Location"] == "/account/welcome/password/"
    response = http.post("/account/welcome/password/", {"new_password1": password, "new_password2": password})
    return http, response


def _invite_nina(admin: User) -> User:
    return services.staff_create(
        actor=admin, email="Nina@Example.org", full_name="Nina Novak", role=Role.THERAPIST
    )


# --- Staff invitations ---------------------------------------------------------------------------


def test_an_invited_staff_member_chooses_their_password_then_enrols_mfa(admin, clock: FakeClock) -> None:
    nina = _invite_nina(admin)
    assert not nina.has_usable_password()
    [mail] = _mails("nina@example.org")
    assert mail.kind == "invitation" and mail.subject == invitations.INVITE_SUBJECT
    token = _token(mail)
    link = SignInLink.objects.get(user=nina)
    # Stored hashed only, for 72 hours.
    assert link.purpose == LinkPurpose.INVITATION
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
    assert link.expires_at - link.created_at == dt.timedelta(hours=72)
    http, response = _follow(token)
    assert response.url == "/account/mfa/enrol/"
    nina.refresh_from_db()
    assert nina.check_password(NEW_PASSWORD)
    # Single use.
    assert HttpClient().post(f"/welcome/{token}/").status_code == 410


def test_an_invitation_expires_after_72_hours(admin, clock: FakeClock) -> None:
    token = _token(_mails(_invite_nina(admin).email)[0])
    clock.advance(hours=72, seconds=1)
    assert HttpClient().get(f"/welcome/{token}/").status_code == 410


def test_a_new_invitation_replaces_the_old_link(as_user, admin) -> None:
    nina = _invite_nina(admin)
    old = _token(_mails(nina.email)[0])
    response = as_user(admin).post(f"/practice/staff/{nina.pk}/invite/")
    assert response.url == f"/practice/staff/{nina.pk}/"
    new = _token(_mails(nina.email)[1])
    assert HttpClient().get(f"/welcome/{old}/").status_code == 410
    assert HttpClient().get(f"/welcome/{new}/").status_code == 200


def test_no_new_invitation_once_the_password_is_chosen(as_user, admin, alice) -> None:
    response = as_user(admin).post(f"/practice/staff/{alice.pk}/invite/", follow=True)
    assert services.INVITED_ALREADY_IN in _text(response)
    assert _mails(alice.email) == []


def test_the_invitation_reaches_the_smtp_server(admin, smtp_sink: SmtpSink) -> None:  # noqa: F811
    _invite_nina(admin)
    call_command("worker", "--once")
    [envelope] = smtp_sink.envelopes
    assert envelope.rcpt_tos == ["nina@example.org"]
    assert isinstance(envelope.content, bytes) and LINK.search(envelope.content.decode())


def test_a_refused_address_writes_nothing_but_its_audit_row(admin, carol_user) -> None:
    before = (User.objects.count(), OutboxMessage.objects.count())
    with pytest.raises(services.ValidationError) as refused:
        services.staff_create(actor=admin, email=carol_user.email, full_name="C", role=Role.THERAPIST)
    assert services.EMAIL_UNUSABLE in refused.value.messages
    assert (User.objects.count(), OutboxMessage.objects.count()) == before
    assert AuditEvent.objects.filter(detail="email address unusable", actor_id=admin.pk).exists()


# --- Password reset ------------------------------------------------------------------------------


def test_the_sign_in_page_offers_a_reset() -> None:
    assert 'href="/account/password/reset/"' in HttpClient().get("/login/").content.decode()


def test_known_and_unknown_addresses_get_the_same_answer(alice) -> None:
    known = HttpClient().post(RESET, {"email": "ALICE@example.org"})
    unknown = HttpClient().post(RESET, {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content
    assert invitations.RESET_SENT in _text(known)
    assert len(_mails(alice.email)) == 1
    assert _mails("nobody@example.org") == []
    # Both audited, neither with the address.
    events = AuditEvent.objects.filter(event_type="password-reset-request")
    assert [e.detail for e in events.order_by("seq")] == ["link sent", "no account"]
    assert not any("nobody" in e.detail or "alice" in e.detail for e in events)


def test_bad_input_gets_a_clear_error_and_changes_nothing(alice) -> None:
    response = HttpClient().post(RESET, {"email": "not an address"})
    assert response.status_code == 200 and response.context["form"].errors["email"]
    assert not OutboxMessage.objects.exists()
    assert not AuditEvent.objects.filter(event_type="password-reset-request").exists()


def test_reset_signs_out_every_other_session_and_keeps_mfa(alice, clock: FakeClock) -> None:
    elsewhere = HttpClient()
    codes = enrolled(elsewhere, alice, clock)
    sign_in(elsewhere, alice)
    elsewhere.post("/account/mfa/verify/", {"code": codes[0]})
    assert elsewhere.get("/caseload/").status_code == 200
    HttpClient().post(RESET, {"email": alice.email})
    link = SignInLink.objects.get(user=alice)
    assert (link.purpose, link.expires_at - link.created_at) == (LinkPurpose.RESET, dt.timedelta(hours=1))
    http, response = _follow(_token(_mails(alice.email)[0]))
    # The authenticator stays: the next step is a code from it, not a new enrolment.
    assert response.url == "/account/mfa/verify/"
    assert TotpDevice.objects.filter(user=alice, confirmed_at__isnull=False).exists()
    assert http.get("/caseload/").url == "/account/mfa/verify/"
    clock.advance(seconds=30)
    assert http.post("/account/mfa/verify/", {"code": totp_now(alice, clock)}).status_code == 302
    assert http.get("/caseload/").status_code == 200
    # The other browser is signed out, and only the new session is registered.
    assert elsewhere.get("/caseload/").status_code == 302
    assert UserSession.objects.filter(user=alice).count() == 1
    assert DjangoSession.objects.count() == 1
    assert AuditEvent.objects.filter(
        event_type="logout", actor_id=alice.pk, detail__startswith="password reset"
    )


def test_a_reset_link_works_for_one_hour(alice, clock: FakeClock) -> None:
    HttpClient().post(RESET, {"email": alice.email})
    token = _token(_mails(alice.email)[0])
    clock.advance(hours=1, seconds=1)
    assert HttpClient().get(f"/welcome/{token}/").status_code == 410


def test_a_client_resets_and_lands_on_their_page(carol_user, client_record) -> None:
    HttpClient().post(RESET, {"email": carol_user.email})
    http, response = _follow(_token(_mails(carol_user.email)[0]))
    assert response.url == "/"
    assert http.get("/me/").status_code == 200


def test_requests_for_one_address_are_limited_quietly(alice) -> None:
    for n in range(invitations.MAX_RESETS_PER_EMAIL + 2):
        response = HttpClient(REMOTE_ADDR=f"10.0.0.{n}").post(RESET, {"email": alice.email})
        assert invitations.RESET_SENT in _text(response)
    assert len(_mails(alice.email)) == invitations.MAX_RESETS_PER_EMAIL


def test_requests_from_one_source_are_limited(alice, clock: FakeClock) -> None:
    http = HttpClient()
    for n in range(invitations.MAX_RESETS_PER_IP):
        assert http.post(RESET, {"email": f"someone{n}@example.org"}).status_code == 200
    refused = http.post(RESET, {"email": alice.email})
    assert refused.status_code == 429 and invitations.RESET_TOO_MANY in _text(refused)
    assert _mails(alice.email) == []
    clock.advance(minutes=16)
    assert http.post(RESET, {"email": alice.email}).status_code == 200
    assert len(_mails(alice.email)) == 1


def test_no_reset_for_a_deactivated_account(admin, bob) -> None:
    services.staff_deactivate(actor=admin, member=bob)
    HttpClient().post(RESET, {"email": bob.email})
    assert _mails(bob.email) == []


# --- Client portal invitations -------------------------------------------------------------------


@pytest.fixture
def dora(alice: User) -> Client:
    return clinical.client_create(actor=alice, given_name="Dora", family_name="Lee", email="dora@example.org")


def test_the_therapist_invites_a_client_to_the_portal(alice, dora) -> None:
    assert "Invite to the client portal" in _text(signed_in(alice).get(f"/clients/{dora.pk}/"))
    response = signed_in(alice).post(f"/clients/{dora.pk}/portal-invite/")
    assert response["Location"] == f"/clients/{dora.pk}/"
    dora.refresh_from_db()
    login = dora.portal_user
    assert login is not None and (login.role, login.email) == (Role.CLIENT, "dora@example.org")
    assert not login.has_usable_password()
    [mail] = _mails("dora@example.org")
    assert "Dora" not in mail.body() and "Lee" not in mail.body()  # no name of the client's in it
    http, response = _follow(_token(mail))
    assert response.url == "/"
    assert http.get("/me/").status_code == 200


def test_inviting_again_sends_a_new_link_until_a_password_is_chosen(alice, dora) -> None:
    clinical.portal_invite(actor=alice, client=dora)
    clinical.portal_invite(actor=alice, client=dora)
    assert User.objects.filter(email="dora@example.org").count() == 1
    first, second = _mails("dora@example.org")
    assert HttpClient().get(f"/welcome/{_token(first)}/").status_code == 410
    _follow(_token(second))
    with pytest.raises(services.ValidationError, match="already has a portal login"):
        clinical.portal_invite(actor=alice, client=dora)


def test_an_address_with_an_account_gets_the_generic_refusal(alice, bob) -> None:
    other = clinical.client_create(actor=alice, given_name="Eve", family_name="Ng", email=bob.email)
    response = signed_in(alice).post(f"/clients/{other.pk}/portal-invite/", follow=True)
    assert services.EMAIL_UNUSABLE in _text(response)
    other.refresh_from_db()
    assert other.portal_user is None and _mails(bob.email) == []
    assert AuditEvent.objects.filter(detail="email address unusable", actor_id=alice.pk).exists()


def test_a_client_without_an_email_cannot_be_invited(alice) -> None:
    nobody = clinical.client_create(actor=alice, given_name="Fay", family_name="Oh")
    response = signed_in(alice).post(f"/clients/{nobody.pk}/portal-invite/", follow=True)
    assert clinical.PORTAL_NO_EMAIL in _text(response)
    assert not User.objects.filter(role=Role.CLIENT).exclude(email="carol@example.org").exists()


def test_only_the_treating_therapist_invites(bob, dora) -> None:
    with pytest.raises(services.ValidationError):
        clinical.portal_invite(actor=bob, client=dora)
    assert signed_in(bob).post(f"/clients/{dora.pk}/portal-invite/").status_code == 404


# --- A new supervisor needs the therapist's acceptance -------------------------------------------


@pytest.fixture
def vera(admin: User) -> User:
    """A second supervisor; the account made directly (the fixture cast has passwords)."""
    return services.user_create(
        practice=admin.practice,
        email="vera@example.org",
        full_name="Vera",
        role=Role.SUPERVISOR,
        password=None,
    )


def test_a_new_supervisor_sees_nothing_until_the_therapist_accepts(admin, alice, sam, vera, episode) -> None:
    share_for_supervision(alice, episode)
    assert episodes_for(sam).filter(pk=episode.pk).exists()
    services.staff_update(actor=admin, member=alice, role=Role.THERAPIST, supervisor=vera)
    # The old supervisor's access ends at once; the new one has none yet.
    assert not episodes_for(sam).filter(pk=episode.pk).exists()
    assert not episodes_for(vera).filter(pk=episode.pk).exists()
    assert signed_in(vera).get(f"/episodes/{episode.pk}/").status_code == 404
    # The therapist is told: by e-mail and on every page.
    [mail] = _mails(alice.email)
    assert mail.kind == "supervision" and "Vera" in mail.body() and "/account/supervision/" in mail.body()
    http = signed_in(User.objects.get(pk=alice.pk))
    assert "proposed a new clinical supervisor" in _text(http.get("/caseload/"))
    response = http.post("/account/supervision/", {"decision": "accept"})
    assert response["Location"] == "/account/supervision/"
    alice.refresh_from_db()
    assert (alice.supervisor_id, alice.proposed_supervisor_id) == (vera.pk, None)
    assert episodes_for(vera).filter(pk=episode.pk).exists()
    assert AuditEvent.objects.filter(
        event_type="supervision-consent", detail=f"accepted supervisor {vera.pk}"
    )


def test_a_declined_supervisor_sees_nothing(admin, alice, vera, episode: Episode) -> None:
    share_for_supervision(alice, episode)
    services.staff_update(actor=admin, member=alice, role=Role.THERAPIST, supervisor=vera)
    signed_in(User.objects.get(pk=alice.pk)).post("/account/supervision/", {"decision": "decline"})
    alice.refresh_from_db()
    assert (alice.supervisor_id, alice.proposed_supervisor_id) == (None, None)
    assert not episodes_for(vera).filter(pk=episode.pk).exists()


def test_an_answer_without_a_proposal_or_a_choice_changes_nothing(alice, sam) -> None:
    http = signed_in(alice)
    response = http.post("/account/supervision/", {"decision": "maybe"}, follow=True)
    assert SUPERVISION_CHOOSE in _text(response)
    response = http.post("/account/supervision/", {"decision": "accept"}, follow=True)
    assert services.NO_PROPOSAL in _text(response)
    alice.refresh_from_db()
    assert (alice.supervisor_id, alice.proposed_supervisor_id) == (sam.pk, None)


def test_removing_a_supervisor_takes_effect_at_once_and_is_told(admin, alice, sam, episode) -> None:
    share_for_supervision(alice, episode)
    services.staff_update(actor=admin, member=alice, role=Role.THERAPIST, supervisor=None)
    assert not episodes_for(sam).filter(pk=episode.pk).exists()
    [mail] = _mails(alice.email)
    assert "removed Sam" in mail.body()


def test_keeping_the_same_supervisor_changes_and_sends_nothing(admin, alice, sam) -> None:
    services.staff_update(actor=admin, member=alice, role=Role.THERAPIST, supervisor=sam)
    alice.refresh_from_db()
    assert (alice.supervisor_id, alice.proposed_supervisor_id) == (sam.pk, None)
    assert _mails(alice.email) == []


def test_a_proposal_to_a_deactivated_supervisor_cannot_be_accepted(admin, alice, vera) -> None:
    services.staff_update(actor=admin, member=alice, role=Role.THERAPIST, supervisor=vera)
    services.staff_deactivate(actor=admin, member=vera)
    with pytest.raises(services.ValidationError):
        services.supervision_respond(therapist=User.objects.get(pk=alice.pk), accept=True)
    assert User.objects.get(pk=alice.pk).supervisor_id is None
