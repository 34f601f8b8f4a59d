"""The practice's theme labels can be renamed and merged (docs/insights.md, "Ruptures and themes"):
the practice admin's page, as for note templates and Socratic questions; a rename shows on every
tagged session; a merge moves the tags (one tag where a session had both); each write audited by
ids; bad input names its field and changes nothing; a therapist is refused, audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from spacebetween.accounts.models import Role, User
from spacebetween.accounts.services import user_create
from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Episode, Session
from spacebetween.practice.models import Practice
from spacebetween.relationship import services
from spacebetween.relationship.models import SessionTheme, ThemeLabel
from tests.conftest import PASSWORD, signed_in

pytestmark = pytest.mark.django_db

URL = "/practice/theme-labels/"


@pytest.fixture
def later(alice: User, episode: Episode) -> Session:
    return clinical.session_create(
        actor=alice, episode=episode, starts_at=dt.datetime(2026, 9, 15, 10, 0, tzinfo=dt.UTC)
    )


def _tag(alice: User, session: Session, label: str, kind: str = "transference") -> SessionTheme:
    return services.theme_tag(actor=alice, session=session, kind=kind, label=label)


def _label(text: str) -> ThemeLabel:
    return ThemeLabel.objects.get(label=text)


def test_a_rename_shows_on_the_tagged_session(alice: User, admin: User, session: Session) -> None:
    _tag(alice, session, "feeling pushd away")
    label = _label("feeling pushd away")
    services.theme_label_rename(actor=admin, label_id=label.pk, label="  feeling  pushed away ")
    page = signed_in(alice).get(f"/sessions/{session.pk}/themes/").content.decode()
    assert "feeling pushed away" in page and "pushd" not in page
    event = AuditEvent.objects.filter(actor_id=admin.pk, action="U", entity_type="ThemeLabel").get()
    assert event.entity_id == str(label.pk) and "pushed" not in (event.detail or "")


def test_a_rename_to_another_labels_name_is_refused(alice: User, admin: User, session: Session) -> None:
    _tag(alice, session, "wish to rescue")
    _tag(alice, session, "wish to rescue her", kind="counter_transference")
    label = _label("wish to rescue her")
    for bad, field in (("Wish To Rescue", "label"), ("", "label"), ("x" * 200, "label")):
        with pytest.raises(ValidationError) as refused:
            services.theme_label_rename(actor=admin, label_id=label.pk, label=bad)
        assert field in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.theme_label_rename(actor=admin, label_id=999999, label="anything")
    assert "label_id" in refused.value.message_dict
    assert _label("wish to rescue her").pk == label.pk  # unchanged


def test_a_merge_moves_the_tags_and_keeps_one_where_a_session_had_both(
    alice: User, admin: User, session: Session, later: Session
) -> None:
    _tag(alice, session, "pushed away")
    _tag(alice, session, "feeling pushed away")
    _tag(alice, later, "pushed away")
    _tag(alice, later, "pushed away", kind="counter_transference")
    source, target = _label("pushed away"), _label("feeling pushed away")
    services.theme_label_merge(actor=admin, source_id=source.pk, target_id=target.pk)
    assert not ThemeLabel.objects.filter(pk=source.pk).exists()
    tags = sorted(SessionTheme.objects.values_list("session_id", "kind", "label_id"))
    assert tags == sorted(
        [
            (session.pk, "transference", target.pk),
            (later.pk, "transference", target.pk),
            (later.pk, "counter_transference", target.pk),
        ]
    )
    audited = AuditEvent.objects.filter(actor_id=admin.pk)
    assert audited.filter(action="D", entity_type="ThemeLabel", entity_id=str(source.pk)).exists()
    assert audited.filter(action="U", entity_type="ThemeLabel", entity_id=str(target.pk)).exists()
    assert audited.filter(action="U", entity_type="SessionTheme").count() == 2  # moved
    assert audited.filter(action="D", entity_type="SessionTheme").count() == 1  # the double


def test_bad_merges_and_other_roles_change_nothing(
    alice: User, admin: User, session: Session, other_practice: Practice
) -> None:
    _tag(alice, session, "pushed away")
    _tag(alice, session, "wish to rescue")
    a, b = _label("pushed away"), _label("wish to rescue")
    outsider = user_create(
        practice=other_practice, email="ada@example.org", full_name="Ada", role=Role.ADMIN, password=PASSWORD
    )
    for actor, source, target, field in (
        (admin, a.pk, a.pk, "target_id"),
        (admin, a.pk, 999999, "target_id"),
        (outsider, a.pk, b.pk, "source_id"),  # another practice's labels are not theirs
    ):
        with pytest.raises(ValidationError) as refused:
            services.theme_label_merge(actor=actor, source_id=source, target_id=target)
        assert field in refused.value.message_dict
    with pytest.raises(PermissionDenied):
        services.theme_label_merge(actor=alice, source_id=a.pk, target_id=b.pk)
    with pytest.raises(PermissionDenied):
        services.theme_label_rename(actor=alice, label_id=a.pk, label="other")
    assert (
        AuditEvent.objects.filter(actor_id=alice.pk, entity_type="ThemeLabel").exclude(outcome=0).count() == 2
    )
    assert set(ThemeLabel.objects.values_list("label", flat=True)) == {"pushed away", "wish to rescue"}
    assert SessionTheme.objects.filter(label=a).count() == 1


def test_the_page_lists_renames_and_merges(alice: User, admin: User, session: Session) -> None:
    _tag(alice, session, "pushed away")
    _tag(alice, session, "feeling pushed away", kind="counter_transference")
    http = signed_in(admin)
    page = http.get(URL).content.decode()
    assert "Theme labels" in page and "pushed away" in page
    source, target = _label("pushed away"), _label("feeling pushed away")
    response = http.post(
        URL, {"action": "rename", "rename-label_id": source.pk, "rename-label": "pushed off"}
    )
    assert response.status_code == 302
    assert _label("pushed off").pk == source.pk
    response = http.post(URL, {"action": "merge", "merge-source_id": source.pk, "merge-target_id": target.pk})
    assert response.status_code == 302
    assert list(SessionTheme.objects.values_list("label_id", flat=True)) == [target.pk, target.pk]
    bad = http.post(URL, {"action": "merge", "merge-source_id": target.pk, "merge-target_id": target.pk})
    assert bad.status_code == 400 and "Choose two different labels" in bad.content.decode()
    assert http.post(URL, {"action": "nothing"}).status_code == 400
    assert ThemeLabel.objects.count() == 1


def test_the_settings_page_links_to_it(admin: User) -> None:
    page = signed_in(admin).get("/practice/settings/").content.decode()
    assert f'href="{URL}"' in page and "Socratic questions" in page
