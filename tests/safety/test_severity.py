"""What each risk answer means (safety.severity, docs/safety.md): the cited defaults, a practice's own
setting, and the admin's risk settings page (safety.services, /practice/risk-settings/)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from spacebetween.accounts.models import User
from spacebetween.audit.models import AuditEvent
from spacebetween.clients.models import Episode
from spacebetween.safety import services
from spacebetween.safety.models import EscalationPolicy, RiskFlag, RiskSeverityRule, Severity
from spacebetween.safety.severity import DEFAULTS, severity_for
from tests.conftest import signed_in
from tests.safety.test_escalation import raise_flag

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 9, 10, 9, 0, tzinfo=dt.UTC)
PAGE = "/practice/risk-settings/"
URGENT, REVIEW = Severity.URGENT.value, Severity.REVIEW.value


def checked(body: str, name: str) -> str:
    """The value of the radio button `name` that the page has chosen."""
    [value] = re.findall(rf'name="{name}" value="(\w+)"[^>]* checked', body)
    return value


def rows(practice_id: int, rule_id: str = "phq9_9") -> list[tuple[float, str]]:
    return list(
        RiskSeverityRule.objects.filter(practice_id=practice_id, rule_id=rule_id)
        .order_by("min_value")
        .values_list("min_value", "severity")
    )


# ------------------------------------------------------------------------------ the defaults


@pytest.mark.parametrize(("value", "expected"), [(1, REVIEW), (2, URGENT), (3, URGENT)])
def test_phq9_item_9_defaults(admin: User, value: int, expected: str) -> None:
    """Simon et al. 2013: risk rises with each step of item 9; "several days" is reviewed within a
    working day, more than half the days or more is urgent."""
    assert severity_for(admin.practice_id, "phq9_9", value) == expected


@pytest.mark.parametrize("value", [1, 2, 3, 4])
def test_core10_item_6_is_urgent_at_any_answer(admin: User, value: int) -> None:
    assert "core10_6" not in DEFAULTS  # a rule not named is urgent
    assert severity_for(admin.practice_id, "core10_6", value) == URGENT


def test_a_raised_flag_carries_its_severity(alice: User, episode: Episode) -> None:
    assert raise_flag(alice, episode, item9=1).severity == REVIEW
    assert raise_flag(alice, episode, item9=3).severity == URGENT


# ------------------------------------------------------------------------------ the practice's own


def test_the_practice_sets_its_own_in_bands(admin: User) -> None:
    services.severity_rules_save(
        actor=admin, rule_id="phq9_9", values={1.0: REVIEW, 2.0: REVIEW, 3.0: URGENT}, now=NOW
    )
    assert rows(admin.practice_id) == [(1.0, REVIEW), (3.0, URGENT)]
    assert [severity_for(admin.practice_id, "phq9_9", v) for v in (1, 2, 3)] == [REVIEW, REVIEW, URGENT]
    # Saving again replaces the rule's rows: all urgent is one row.
    services.severity_rules_save(
        actor=admin, rule_id="phq9_9", values={1.0: URGENT, 2.0: URGENT, 3.0: URGENT}, now=NOW
    )
    assert rows(admin.practice_id) == [(1.0, URGENT)]
    assert severity_for(admin.practice_id, "phq9_9", 1) == URGENT


def test_a_save_is_audited(admin: User) -> None:
    services.severity_rules_save(
        actor=admin, rule_id="phq9_9", values={1.0: REVIEW, 2.0: URGENT, 3.0: URGENT}, now=NOW
    )
    assert AuditEvent.objects.filter(
        entity_type="RiskSeverityRule", entity_id="phq9_9", actor_id=admin.pk, detail="1:review 2:urgent"
    ).exists()


def test_another_practice_keeps_the_defaults(admin: User, oscar: User) -> None:
    services.severity_rules_save(
        actor=admin, rule_id="phq9_9", values={1.0: URGENT, 2.0: URGENT, 3.0: URGENT}, now=NOW
    )
    assert severity_for(oscar.practice_id, "phq9_9", 1) == REVIEW


def test_a_raised_flag_is_never_downgraded(alice: User, episode: Episode, admin: User) -> None:
    urgent = raise_flag(alice, episode, item9=2)
    services.severity_rules_save(
        actor=admin, rule_id="phq9_9", values={1.0: REVIEW, 2.0: REVIEW, 3.0: REVIEW}, now=NOW
    )
    urgent.refresh_from_db()
    assert urgent.severity == URGENT
    assert raise_flag(alice, episode, item9=2).severity == REVIEW  # new settings apply to new flags


@pytest.mark.parametrize(
    ("rule_id", "values", "field"),
    [
        ("phq9_1", {1.0: URGENT}, "rule_id"),  # not a risk rule
        ("no_such_rule", {1.0: URGENT}, "rule_id"),
        ("phq9_9", {0.0: URGENT, 1.0: REVIEW, 2.0: URGENT, 3.0: URGENT}, "phq9_9"),  # 0 meets no rule
        ("phq9_9", {1.0: REVIEW, 2.0: URGENT, 3.0: URGENT, 4.0: URGENT}, "phq9_9"),  # not an answer
        ("phq9_9", {1.0: REVIEW, 2.0: URGENT}, "phq9_9"),  # 3 missing
        ("phq9_9", {1.0: "later", 2.0: URGENT, 3.0: URGENT}, "phq9_9"),
    ],
)
def test_bad_input_is_refused_and_nothing_changes(
    admin: User, rule_id: str, values: dict[float, str], field: str
) -> None:
    services.severity_rules_save(
        actor=admin, rule_id="phq9_9", values={1.0: URGENT, 2.0: URGENT, 3.0: URGENT}, now=NOW
    )
    audit_rows = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.severity_rules_save(actor=admin, rule_id=rule_id, values=values, now=NOW)
    assert field in exc.value.message_dict
    assert rows(admin.practice_id) == [(1.0, URGENT)]
    assert AuditEvent.objects.count() == audit_rows


@pytest.mark.parametrize("who", ["alice", "sam", "carol_user"])
def test_only_an_admin_may_set_them(who: str, request: pytest.FixtureRequest) -> None:
    actor: User = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        services.severity_rules_save(
            actor=actor, rule_id="phq9_9", values={1.0: URGENT, 2.0: URGENT, 3.0: URGENT}, now=NOW
        )
    with pytest.raises(PermissionDenied):
        services.escalation_policy_save(
            actor=actor, urgent_minutes=30, review_minutes=60, on_call_email="", now=NOW
        )
    assert not RiskSeverityRule.objects.exists() and not EscalationPolicy.objects.exists()
    assert AuditEvent.objects.filter(event_type="access-denied", actor_id=actor.pk).count() == 2


# ------------------------------------------------------------------------------ the escalation policy


def test_the_policy_is_saved_and_audited(admin: User) -> None:
    policy = services.escalation_policy_save(
        actor=admin, urgent_minutes=30, review_minutes=480, on_call_email=" duty@example.org ", now=NOW
    )
    assert (policy.urgent_minutes, policy.review_minutes, policy.on_call_email) == (
        30,
        480,
        "duty@example.org",
    )
    services.escalation_policy_save(
        actor=admin, urgent_minutes=45, review_minutes=480, on_call_email="", now=NOW
    )
    assert EscalationPolicy.objects.get().urgent_minutes == 45
    assert list(
        AuditEvent.objects.filter(entity_type="EscalationPolicy").values_list("action", "detail")
    ) == [("C", "urgent:30 review:480 on-call:set"), ("U", "urgent:45 review:480 on-call:none")]


@pytest.mark.parametrize(
    ("urgent", "review", "email", "fields"),
    [
        (4, 240, "", {"urgent_minutes"}),
        (60, 10081, "", {"review_minutes"}),
        ("soon", True, "", {"urgent_minutes", "review_minutes"}),
        (60, 240, "not an address", {"on_call_email"}),
    ],
)
def test_bad_policy_input_names_the_field_and_changes_nothing(
    admin: User, urgent: object, review: object, email: str, fields: set[str]
) -> None:
    services.escalation_policy_save(
        actor=admin, urgent_minutes=60, review_minutes=240, on_call_email="", now=NOW
    )
    with pytest.raises(ValidationError) as exc:
        services.escalation_policy_save(
            actor=admin, urgent_minutes=urgent, review_minutes=review, on_call_email=email, now=NOW
        )
    assert set(exc.value.message_dict) == fields
    policy = EscalationPolicy.objects.get()
    assert (policy.urgent_minutes, policy.review_minutes, policy.on_call_email) == (60, 240, "")


# ------------------------------------------------------------------------------ the page


def test_the_page_shows_the_defaults_until_saved(admin: User) -> None:
    body = signed_in(admin).get(PAGE).content.decode()
    assert "<h1>Risk settings</h1>" in body
    assert "PHQ-9" in body
    # Django renders the chosen radio with `checked` after the value.
    assert checked(body, "phq9_9-answer_1") == REVIEW
    assert checked(body, "phq9_9-answer_2") == URGENT
    assert checked(body, "phq9_9-answer_3") == URGENT
    assert [checked(body, f"core10_6-answer_{v}") for v in (1, 2, 3, 4)] == [URGENT] * 4
    assert 'value="60"' in body and 'value="240"' in body
    assert 'href="/practice/risk-settings/"' in body  # in the admin's navigation


def test_the_admin_saves_a_rule_on_the_page(admin: User) -> None:
    http = signed_in(admin)
    response = http.post(
        PAGE,
        {
            "form": "phq9_9",
            "phq9_9-answer_1": "urgent",
            "phq9_9-answer_2": "urgent",
            "phq9_9-answer_3": "urgent",
        },
    )
    assert (response.status_code, response["Location"]) == (302, reverse("risk_settings"))
    assert rows(admin.practice_id) == [(1.0, URGENT)]
    body = http.get(PAGE).content.decode()
    assert checked(body, "phq9_9-answer_1") == URGENT
    assert "Saved what each answer means" in body


def test_the_admin_saves_the_escalation_on_the_page(admin: User) -> None:
    response = signed_in(admin).post(
        PAGE,
        {
            "form": "escalation",
            "escalation-urgent_minutes": "20",
            "escalation-review_minutes": "300",
            "escalation-on_call_email": "duty@example.org",
        },
    )
    assert response.status_code == 302
    policy = EscalationPolicy.objects.get()
    assert (policy.urgent_minutes, policy.review_minutes, policy.on_call_email) == (
        20,
        300,
        "duty@example.org",
    )


def test_bad_input_on_the_page_is_refused_on_its_field(admin: User) -> None:
    http = signed_in(admin)
    response = http.post(
        PAGE,
        {
            "form": "escalation",
            "escalation-urgent_minutes": "2",
            "escalation-review_minutes": "300",
            "escalation-on_call_email": "nobody",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "There is a problem" in body and "Urgent flags: minutes" in body and "On-call e-mail" in body
    assert not EscalationPolicy.objects.exists()
    response = http.post(PAGE, {"form": "phq9_9", "phq9_9-answer_1": "urgent", "phq9_9-answer_2": "soon"})
    assert response.status_code == 400
    assert not RiskSeverityRule.objects.exists()
    response = http.post(PAGE, {"form": "phq9_1", "phq9_1-answer_1": "urgent"})
    assert response.status_code == 400
    assert not RiskSeverityRule.objects.exists()


@pytest.mark.parametrize(("who", "status"), [("alice", 403), ("sam", 403), ("carol_user", 403)])
def test_others_may_not_open_the_page(who: str, status: int, request: pytest.FixtureRequest) -> None:
    http = signed_in(request.getfixturevalue(who))
    assert http.get(PAGE).status_code == status
    response = http.post(PAGE, {"form": "escalation", "escalation-urgent_minutes": "5"})
    assert response.status_code == status
    assert not EscalationPolicy.objects.exists()


def test_a_short_chain_is_warned_about(admin: User, bob: User) -> None:
    """Bob has no supervisor and there is no on-call address: his flags reach him, the admin, nobody."""
    http = signed_in(admin)
    body = http.get(PAGE).content.decode()
    assert "The escalation chain is short" in body and "Bob" in body
    services.escalation_policy_save(
        actor=admin, urgent_minutes=60, review_minutes=240, on_call_email="duty@example.org", now=NOW
    )
    assert "The escalation chain is short" not in http.get(PAGE).content.decode()


def test_the_page_says_which_flags_are_urgent_on_the_caseload(
    alice: User, episode: Episode, admin: User
) -> None:
    raise_flag(alice, episode, item9=1)
    raise_flag(alice, episode, item9=3)
    body = signed_in(alice).get("/caseload/").content.decode()
    assert body.count('class="badge urgent">Urgent<') == 1
    assert body.count('class="badge review">Review<') == 1
    assert body.index("badge urgent") < body.index("badge review")  # urgent first
    assert "The treating therapist" in body
    assert RiskFlag.objects.count() == 2
