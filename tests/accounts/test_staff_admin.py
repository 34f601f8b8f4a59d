"""Staff administration: only the practice admin, only for their own practice's staff."""

from __future__ import annotations

import html

import pytest
from django.contrib.sessions.models import Session
from django.test import Client as HttpClient

from spacebetween.accounts import services
from spacebetween.accounts.access import staff_for
from spacebetween.accounts.models import RecoveryCode, Role, TotpDevice, User, UserSession
from spacebetween.accounts.views import MFA_RESET_DONE, STAFF_ADDED
from spacebetween.audit.models import AuditEvent
from tests.accounts.conftest import enrol, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LIST = "/practice/staff/"
ADD = "/practice/staff/add/"


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.content.decode())


def _new_staff(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "full_name": "Nina Novak",
        "email": "nina@example.org",
        "role": Role.THERAPIST,
        "supervisor": "",
        "password": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def other_admin(other_practice):  # type: ignore[no-untyped-def]
    return services.user_create(
        practice=other_practice,
        email="boss@hilltop.example",
        full_name="Boss",
        role=Role.ADMIN,
        password=PASSWORD,
    )


# --- Who may open the pages ----------------------------------------------------------------------


def test_the_admin_sees_the_staff_list(as_user, admin, alice, sam, bob) -> None:
    response = as_user(admin).get(LIST)
    assert response.status_code == 200
    assert {m.pk for m in response.context["staff"]} == {admin.pk, alice.pk, sam.pk, bob.pk}


def test_the_list_leaves_out_clients(as_user, admin, carol_user) -> None:
    response = as_user(admin).get(LIST)
    assert carol_user.pk not in {m.pk for m in response.context["staff"]}


def test_the_list_leaves_out_another_practices_staff(as_user, admin, oscar) -> None:
    response = as_user(admin).get(LIST)
    assert oscar.pk not in {m.pk for m in response.context["staff"]}


def test_the_list_shows_role_and_mfa_status(as_user, admin, alice) -> None:
    page = _text(as_user(admin).get(LIST))
    assert "Therapist" in page
    assert "Not set up yet" in page  # Alice has no authenticator yet
    assert "Set up" in page  # the admin has


def test_the_list_takes_the_same_number_of_queries_whatever_the_staff_size(
    as_user, admin, practice, django_assert_num_queries
) -> None:
    http = as_user(admin)
    http.get(LIST)
    with django_assert_num_queries(7) as few:
        http.get(LIST)
    for i in range(5):
        services.staff_create(actor=admin, email=f"t{i}@example.org", full_name=f"T {i}", role=Role.THERAPIST)
    with django_assert_num_queries(len(few.captured_queries)):
        http.get(LIST)


def test_anonymous_visitors_are_sent_to_sign_in(client, practice) -> None:
    assert client.get(LIST).url == f"/login/?next={LIST}"


def test_a_therapist_gets_403_for_the_staff_list(as_user, alice) -> None:
    assert as_user(alice).get(LIST).status_code == 403


def test_a_supervisor_gets_403_for_the_staff_list(as_user, sam) -> None:
    assert as_user(sam).get(LIST).status_code == 403


def test_a_client_gets_403_for_the_staff_list(as_user, carol_user) -> None:
    assert as_user(carol_user).get(LIST).status_code == 403


def test_a_therapist_gets_403_for_adding_staff(as_user, alice) -> None:
    assert as_user(alice).post(ADD, _new_staff()).status_code == 403
    assert not User.objects.filter(email="nina@example.org").exists()


def test_a_therapist_gets_403_for_a_staff_member(as_user, alice, bob) -> None:
    assert as_user(alice).get(f"/practice/staff/{bob.pk}/").status_code == 403


def test_a_therapist_gets_403_for_deactivating_a_colleague(as_user, alice, bob) -> None:
    assert as_user(alice).post(f"/practice/staff/{bob.pk}/deactivate/").status_code == 403
    assert User.objects.get(pk=bob.pk).is_active


def test_a_supervisor_gets_403_for_resetting_mfa(as_user, sam, alice) -> None:
    response = as_user(sam).post(f"/practice/staff/{alice.pk}/reset-mfa/", {"identity_checked": "on"})
    assert response.status_code == 403


def test_another_practices_admin_gets_404_for_our_staff_member(as_user, other_admin, alice) -> None:
    assert as_user(other_admin).get(f"/practice/staff/{alice.pk}/").status_code == 404


def test_another_practices_admin_cannot_deactivate_our_staff(as_user, other_admin, alice) -> None:
    assert as_user(other_admin).post(f"/practice/staff/{alice.pk}/deactivate/").status_code == 404
    assert User.objects.get(pk=alice.pk).is_active


def test_the_admin_gets_404_for_a_client_account(as_user, admin, carol_user) -> None:
    assert as_user(admin).get(f"/practice/staff/{carol_user.pk}/").status_code == 404


def test_a_refused_page_is_audited(as_user, alice) -> None:
    as_user(alice).get(LIST)
    event = AuditEvent.objects.get(event_type="access-denied")
    assert (event.actor_id, event.entity_id) == (alice.pk, "staff_list")


def test_staff_for_gives_non_admins_nobody(alice, admin, sam) -> None:
    assert list(staff_for(alice)) == []
    assert list(staff_for(sam)) == []


# --- Adding ---------------------------------------------------------------------------------------


def test_the_admin_adds_a_therapist_with_a_proposed_supervisor(as_user, admin, sam) -> None:
    response = as_user(admin).post(ADD, _new_staff(supervisor=sam.pk))
    assert response.url == LIST
    nina = User.objects.get(email="nina@example.org")
    assert (nina.role, nina.practice_id) == (Role.THERAPIST, admin.practice_id)
    # Proposed only: sam sees nothing of hers until she accepts (tests/accounts/test_invitations.py).
    assert (nina.supervisor_id, nina.proposed_supervisor_id) == (None, sam.pk)


def test_adding_says_so(as_user, admin) -> None:
    http = as_user(admin)
    assert STAFF_ADDED in _text(http.get(http.post(ADD, _new_staff()).url))


def test_a_staff_member_added_without_a_password_cannot_sign_in_yet(as_user, admin) -> None:
    as_user(admin).post(ADD, _new_staff())
    assert not User.objects.get(email="nina@example.org").has_usable_password()


def test_adding_is_audited(as_user, admin) -> None:
    as_user(admin).post(ADD, _new_staff())
    nina = User.objects.get(email="nina@example.org")
    event = AuditEvent.objects.get(entity_type="User", entity_id=str(nina.pk), action="C")
    assert event.actor_id == admin.pk


def test_a_new_staff_member_must_set_up_mfa_at_first_sign_in(as_user, admin) -> None:
    as_user(admin).post(ADD, _new_staff())
    nina = User.objects.get(email="nina@example.org")
    nina.set_password("a good long passphrase 5")  # as her invitation link would
    nina.save()
    response = sign_in(HttpClient(), nina, password="a good long passphrase 5")
    assert response.url == "/account/mfa/enrol/"


def test_a_taken_email_is_refused_next_to_the_field_and_nothing_is_written(as_user, admin, alice) -> None:
    http = as_user(admin)
    before = (User.objects.count(), AuditEvent.objects.count())
    response = http.post(ADD, _new_staff(email=alice.email.upper()))
    assert services.EMAIL_TAKEN in response.context["form"].errors["email"]
    assert (User.objects.count(), AuditEvent.objects.count()) == before


def test_a_supervisor_for_a_non_therapist_is_refused_next_to_the_field(as_user, admin, sam) -> None:
    response = as_user(admin).post(ADD, _new_staff(role=Role.SUPERVISOR, supervisor=sam.pk))
    assert services.SUPERVISOR_ONLY_FOR_THERAPISTS in response.context["form"].errors["supervisor"]
    assert not User.objects.filter(email="nina@example.org").exists()


def test_the_admin_cannot_set_a_staff_members_password(as_user, admin) -> None:
    """The security finding: an admin who knew a supervisor's password could sign in as them. A
    password posted with the form is ignored; only the invitee chooses one."""
    as_user(admin).post(ADD, _new_staff(password="a good long passphrase 5"))
    nina = User.objects.get(email="nina@example.org")
    assert not nina.has_usable_password()
    assert not nina.check_password("a good long passphrase 5")
    with pytest.raises(TypeError):
        services.staff_create(  # type: ignore[call-arg]
            actor=admin,
            email="x@example.org",
            full_name="X",
            role=Role.SUPERVISOR,
            password="a good long one 5",
        )


def test_the_client_role_cannot_be_given_here(as_user, admin) -> None:
    response = as_user(admin).post(ADD, _new_staff(role=Role.CLIENT))
    assert response.context["form"].errors["role"]
    assert not User.objects.filter(email="nina@example.org").exists()


def test_a_supervisor_of_another_practice_cannot_be_chosen(as_user, admin, other_practice) -> None:
    theirs = services.user_create(
        practice=other_practice,
        email="sup@hilltop.example",
        full_name="Sup",
        role=Role.SUPERVISOR,
        password=None,
    )
    response = as_user(admin).post(ADD, _new_staff(supervisor=theirs.pk))
    assert response.context["form"].errors["supervisor"]
    assert not User.objects.filter(email="nina@example.org").exists()


def test_a_missing_name_is_refused_next_to_the_field(as_user, admin) -> None:
    response = as_user(admin).post(ADD, _new_staff(full_name=""))
    assert response.context["form"].errors["full_name"]


# --- Changing role and supervisor -------------------------------------------------------------------


def _edit(http, member: User, **data: object):  # type: ignore[no-untyped-def]
    return http.post(f"/practice/staff/{member.pk}/", data)


def test_the_admin_changes_a_role(as_user, admin, bob) -> None:
    response = _edit(as_user(admin), bob, role=Role.SUPERVISOR, supervisor="")
    assert response.url == f"/practice/staff/{bob.pk}/"
    assert User.objects.get(pk=bob.pk).role == Role.SUPERVISOR


def test_the_admin_proposes_a_supervisor_for_a_therapist(as_user, admin, bob, sam) -> None:
    _edit(as_user(admin), bob, role=Role.THERAPIST, supervisor=sam.pk)
    bob = User.objects.get(pk=bob.pk)
    assert (bob.supervisor_id, bob.proposed_supervisor_id) == (None, sam.pk)


def test_a_role_change_is_audited(as_user, admin, bob) -> None:
    _edit(as_user(admin), bob, role=Role.SUPERVISOR, supervisor="")
    event = AuditEvent.objects.get(entity_type="User", entity_id=str(bob.pk), action="U")
    assert (event.actor_id, event.detail) == (admin.pk, "role=supervisor")


def test_a_supervisor_with_supervisees_keeps_the_role(as_user, admin, sam, alice) -> None:
    response = _edit(as_user(admin), sam, role=Role.THERAPIST, supervisor="")
    assert services.STILL_SUPERVISING in response.context["form"].errors["role"]
    assert User.objects.get(pk=sam.pk).role == Role.SUPERVISOR


def test_the_last_admin_keeps_the_role(as_user, admin) -> None:
    response = _edit(as_user(admin), admin, role=Role.THERAPIST, supervisor="")
    assert services.LAST_ADMIN in response.context["form"].errors["role"]
    assert User.objects.get(pk=admin.pk).role == Role.ADMIN


def test_a_supervisor_cannot_supervise_themselves(admin, sam) -> None:
    with pytest.raises(services.ValidationError):
        services.staff_update(actor=admin, member=sam, role=Role.THERAPIST, supervisor=sam)


def test_a_refused_change_writes_nothing(as_user, admin, sam, alice) -> None:
    http = as_user(admin)
    before = AuditEvent.objects.count()
    _edit(http, alice, role=Role.ADMIN, supervisor=sam.pk)
    assert (User.objects.get(pk=alice.pk).role, AuditEvent.objects.count()) == (Role.THERAPIST, before)


def test_a_therapist_cannot_change_roles_through_the_service(alice, bob) -> None:
    with pytest.raises(services.ValidationError):
        services.staff_update(actor=alice, member=bob, role=Role.ADMIN, supervisor=None)
    assert User.objects.get(pk=bob.pk).role == Role.THERAPIST


# --- Deactivating ---------------------------------------------------------------------------------


def test_the_admin_deactivates_a_staff_member(as_user, admin, bob) -> None:
    as_user(admin).post(f"/practice/staff/{bob.pk}/deactivate/")
    assert not User.objects.get(pk=bob.pk).is_active


def test_deactivation_ends_their_sessions(as_user, admin, bob, clock) -> None:
    bobs = HttpClient()
    enrol(bobs, bob, clock)
    bobs_key = bobs.session.session_key
    as_user(admin).post(f"/practice/staff/{bob.pk}/deactivate/")
    assert not Session.objects.filter(session_key=bobs_key).exists()
    assert not UserSession.objects.filter(user=bob).exists()
    assert bobs.get("/account/password/").status_code == 302


def test_a_deactivated_staff_member_cannot_sign_in(as_user, admin, bob) -> None:
    as_user(admin).post(f"/practice/staff/{bob.pk}/deactivate/")
    http = HttpClient()
    sign_in(http, bob)
    assert "_auth_user_id" not in http.session


def test_deactivation_is_audited(as_user, admin, bob) -> None:
    as_user(admin).post(f"/practice/staff/{bob.pk}/deactivate/")
    event = AuditEvent.objects.get(entity_type="User", entity_id=str(bob.pk), action="U")
    assert event.actor_id == admin.pk
    assert event.detail.startswith("deactivated")


def test_the_admin_cannot_deactivate_themselves(as_user, admin) -> None:
    response = as_user(admin).post(f"/practice/staff/{admin.pk}/deactivate/", follow=True)
    assert services.DEACTIVATE_SELF in _text(response)
    assert User.objects.get(pk=admin.pk).is_active


def test_deactivation_by_get_is_refused(as_user, admin, bob) -> None:
    assert as_user(admin).get(f"/practice/staff/{bob.pk}/deactivate/").status_code == 405
    assert User.objects.get(pk=bob.pk).is_active


def test_the_admin_reactivates_a_staff_member(as_user, admin, bob) -> None:
    http = as_user(admin)
    http.post(f"/practice/staff/{bob.pk}/deactivate/")
    http.post(f"/practice/staff/{bob.pk}/reactivate/")
    assert User.objects.get(pk=bob.pk).is_active


# --- Resetting MFA --------------------------------------------------------------------------------


def _reset(http, member: User, confirmed: bool = True):  # type: ignore[no-untyped-def]
    return http.post(
        f"/practice/staff/{member.pk}/reset-mfa/", {"identity_checked": "on"} if confirmed else {}
    )


def test_the_admin_resets_a_staff_members_authenticator(as_user, admin, bob, clock) -> None:
    enrol(HttpClient(), bob, clock)
    response = _reset(as_user(admin), bob)
    assert response.url == f"/practice/staff/{bob.pk}/"
    assert not TotpDevice.objects.filter(user=bob).exists()
    assert not RecoveryCode.objects.filter(user=bob).exists()


def test_the_reset_says_so(as_user, admin, bob, clock) -> None:
    enrol(HttpClient(), bob, clock)
    http = as_user(admin)
    assert MFA_RESET_DONE in _text(http.get(_reset(http, bob).url))


def test_the_reset_ends_their_sessions(as_user, admin, bob, clock) -> None:
    bobs = HttpClient()
    enrol(bobs, bob, clock)
    _reset(as_user(admin), bob)
    assert bobs.get("/account/password/").status_code == 302


def test_after_a_reset_they_set_up_a_new_authenticator(as_user, admin, bob, clock) -> None:
    enrol(HttpClient(), bob, clock)
    _reset(as_user(admin), bob)
    assert sign_in(HttpClient(), bob).url == "/account/mfa/enrol/"


def test_the_reset_is_audited(as_user, admin, bob, clock) -> None:
    enrol(HttpClient(), bob, clock)
    _reset(as_user(admin), bob)
    event = AuditEvent.objects.get(event_type="mfa-reset")
    assert (event.actor_id, event.entity_id) == (admin.pk, str(bob.pk))


def test_the_reset_needs_the_identity_check_confirmed(as_user, admin, bob, clock) -> None:
    enrol(HttpClient(), bob, clock)
    response = _reset(as_user(admin), bob, confirmed=False)
    assert response.context["reset_form"].errors["identity_checked"]
    assert TotpDevice.objects.filter(user=bob).exists()


def test_the_admin_cannot_reset_their_own_authenticator(admin) -> None:
    with pytest.raises(services.ValidationError):
        services.mfa_reset(actor=admin, member=admin)
