"""Crisis resources by country (safety/crisis.py, safety/data/crisis_lines.json): the data file is
sound, a client sees the lines for their own country when it is recorded (else the practice's), the
practice's own entries come first, a country without a checked crisis line gets the directory, and
only the practice's admin can change its country (audited; a bad code changes nothing)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from spacebetween import clock
from spacebetween.accounts.models import User
from spacebetween.answering.services import assignment_create
from spacebetween.audit.models import Action, AuditEvent
from spacebetween.clients.models import Client, Episode
from spacebetween.practice.models import Practice
from spacebetween.safety import crisis
from tests.conftest import signed_in
from tests.delivery.helpers import CALM, answer_all

# The countries the issue asks for; each must be in the data file with a verified emergency number,
# or be listed under left_out with the reason (never a number from memory).
REQUIRED = [
    "US",
    "CA",
    "GB",
    "IE",
    "AU",
    "NZ",
    "DE",
    "AT",
    "CH",
    "FR",
    "NL",
    "ES",
    "IT",
    "SE",
    "NO",
    "DK",
    "FI",
    "IN",
    "ZA",
]
PAGE = reverse("crisis_resources")
COUNTRY_URL = reverse("crisis_country")
PHONE = re.compile(r"\+?[0-9][0-9 ()\-]*")


def _names(resources: list[crisis.Resource] | tuple[crisis.Resource, ...]) -> list[str]:
    return [r.name for r in resources]


def _set_client_country(client: Client, country: str) -> Client:
    Client.objects.filter(pk=client.pk).update(country=country)
    client.refresh_from_db()
    return client


# ------------------------------------------------------------------------------ the data file


def _entries() -> list[dict[str, str]]:
    data = crisis.crisis_lines()
    listed = [e for country in data["countries"].values() for e in country["resources"]]
    return [*listed, data["directory"], data["generic_emergency"]]


def test_every_entry_has_a_primary_source_a_checked_date_and_a_way_to_reach_it() -> None:
    for entry in _entries():
        assert entry["source"].startswith("https://"), entry
        assert dt.date.fromisoformat(entry["checked"]) <= dt.date(2026, 12, 7), entry
        assert entry["name"].strip() and entry["text"].strip(), entry
        assert entry.get("phone") or entry.get("url") or entry is crisis.crisis_lines()["generic_emergency"]
        if entry.get("phone"):
            assert PHONE.fullmatch(entry["phone"]), entry
        if entry.get("url"):
            assert entry["url"].startswith("https://"), entry


def test_every_required_country_has_its_emergency_number_or_says_why_not() -> None:
    data = crisis.crisis_lines()
    left_out = {item["country"] for item in data["left_out"]}
    assert all(item["reason"].strip() for item in data["left_out"])
    for code in REQUIRED:
        assert code in data["countries"], code
        kinds = {e["kind"] for e in data["countries"][code]["resources"]}
        assert kinds <= {"emergency", "helpline"}
        assert "emergency" in kinds or code in left_out, code
        assert "helpline" in kinds or code in left_out, code


def test_northern_irelands_lines_are_shown_within_gb_and_say_so() -> None:
    gb = crisis.built_in_for("GB")
    lifeline = next(r for r in gb if r.name.startswith("Lifeline"))
    assert lifeline.text.startswith("In Northern Ireland") and lifeline.tel == "08088088000"
    nhs_111 = next(r for r in gb if r.name.startswith("NHS 111"))
    assert "not available in Northern Ireland" in nhs_111.text
    assert _names(gb)[0] == "Emergency services" and gb[0].phone == "999"


def test_a_country_with_a_checked_crisis_line_does_not_need_the_directory() -> None:
    for code in ("GB", "IE", "US", "AU", "FR"):
        assert crisis.directory() not in crisis.built_in_for(code), code


# ------------------------------------------------------------------------------ which country


def test_the_clients_own_country_wins_over_the_practices(practice: Practice, client_record: Client) -> None:
    assert practice.country == "GB"
    assert "NHS 111, mental health option" in _names(crisis.resources_for(practice, client_record))
    _set_client_country(client_record, "IE")
    names = _names(crisis.resources_for(practice, client_record))
    assert "Samaritans" in names and "NHS 111, mental health option" not in names
    assert crisis.country_for(practice, client_record) == "IE"


def test_without_a_client_or_a_recorded_country_the_practices_country_is_used(
    practice: Practice, client_record: Client
) -> None:
    assert crisis.country_for(practice) == crisis.country_for(practice, client_record) == "GB"


def test_the_practices_own_entries_for_that_country_come_first(
    admin: User, practice: Practice, client_record: Client
) -> None:
    for country, name in (("IE", "Dublin duty line"), ("GB", "Riverside duty line")):
        crisis.crisis_resource_add(
            actor=admin, country=country, name=name, phone="01 555 0100", text="Weekdays."
        )
    _set_client_country(client_record, "IE")
    names = _names(crisis.resources_for(practice, client_record))
    assert names[0] == "Dublin duty line" and "Riverside duty line" not in names
    assert names[1:] == _names(crisis.built_in_for("IE"))


def test_an_unsupported_country_gets_emergency_advice_and_the_directory(
    practice: Practice, client_record: Client
) -> None:
    _set_client_country(client_record, "BR")
    resources = crisis.resources_for(practice, client_record)
    assert resources[0] == crisis.Resource(
        **{k: crisis.crisis_lines()["generic_emergency"][k] for k in ("name", "phone", "text", "url")}
    )
    assert resources[-1] == crisis.directory() and resources[-1].url == "https://findahelpline.com"
    assert "directory" in resources[-1].text


def test_a_country_with_only_an_emergency_number_gets_it_and_the_directory() -> None:
    de = crisis.built_in_for("DE")
    assert [r.phone for r in de] == ["112", ""] and de[-1] == crisis.directory()


def test_a_client_abroad_sees_their_countrys_lines_on_the_crisis_page(
    alice: User, carol_user: User, episode: Episode
) -> None:
    _set_client_country(episode.client, "IE")
    assignment = assignment_create(actor=alice, episode=episode, instrument_id="phq9", due_at=clock.now())
    kw = {"assignment_id": assignment.pk}
    http = signed_in(carol_user)
    answer_all(http, reverse("portal_answer", kwargs=kw), {**CALM, "phq9_9": 1})
    http.post(reverse("portal_review", kwargs=kw))
    body = http.get(reverse("portal_done", kwargs=kw)).content.decode()
    assert "If you need help now" in body
    assert 'href="tel:116123"' in body and 'href="tel:112"' in body
    assert "NHS 111" not in body and "999" not in body


# ------------------------------------------------------------------------------ the practice's country


def test_the_admin_sets_the_practices_country_and_it_is_audited(admin: User, practice: Practice) -> None:
    response = signed_in(admin).post(COUNTRY_URL, {"country": "IE"})
    assert response.status_code == 302 and response["Location"] == PAGE
    practice.refresh_from_db()
    assert practice.country == "IE"
    event = AuditEvent.objects.get(action=Action.UPDATE, entity_type="Practice", entity_id=str(practice.pk))
    assert event.actor_id == admin.pk and event.detail == "country:GB->IE"
    body = signed_in(admin).get(PAGE).content.decode()
    assert "Built-in entries (Ireland)" in body and "Samaritans" in body


def test_the_service_accepts_any_iso_code_and_lists_the_supported_ones_first(admin: User) -> None:
    assert crisis.practice_country_set(actor=admin, country=" br ").country == "BR"
    choices = crisis.country_choices()
    supported = set(crisis.supported_countries())
    assert {code for code, _ in choices[: len(supported)]} == supported
    assert ("GB", "United Kingdom (GB)") in choices and ("BR", "BR") in choices


@pytest.mark.parametrize("bad", ["", "G", "GBR", "XX", "12", "UK"])
def test_a_bad_code_is_refused_and_nothing_changes(admin: User, practice: Practice, bad: str) -> None:
    response = signed_in(admin).post(COUNTRY_URL, {"country": bad})
    assert response.status_code == 400 and "country" in response.context["country_form"].errors
    with pytest.raises(ValidationError) as caught:
        crisis.practice_country_set(actor=admin, country=bad)
    assert set(caught.value.error_dict) == {"country"}
    practice.refresh_from_db()
    assert practice.country == "GB"
    assert not AuditEvent.objects.filter(entity_type="Practice", action=Action.UPDATE).exists()


def test_only_an_admin_of_the_practice_may_change_it(
    alice: User, carol_user: User, oscar: User, practice: Practice, other_practice: Practice
) -> None:
    for user in (alice, carol_user):
        assert signed_in(user).post(COUNTRY_URL, {"country": "IE"}).status_code == 403
        with pytest.raises(PermissionDenied):
            crisis.practice_country_set(actor=user, country="IE")
    with pytest.raises(PermissionDenied):
        crisis.practice_country_set(actor=oscar, country="IE")
    practice.refresh_from_db()
    other_practice.refresh_from_db()
    assert practice.country == other_practice.country == "GB"
    assert not AuditEvent.objects.filter(entity_type="Practice", action=Action.UPDATE).exists()


def test_another_practices_admin_changes_only_their_own(
    admin: User, practice: Practice, other_practice: Practice
) -> None:
    crisis.practice_country_set(actor=admin, country="AU")
    other_practice.refresh_from_db()
    assert other_practice.country == "GB"
