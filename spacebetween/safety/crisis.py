"""Crisis resources by country: what a client is shown after a risk answer, the practice's own
entries (added and removed by its admin), and the practice's country.

The built-in entries live in `data/crisis_lines.json` (each with the primary page it was read on and
the date; what could not be verified is listed there under `left_out` and is not shown). A client sees,
in order: the practice's own entries for the client's country, the built-in ones for that country, and,
where no crisis line is built in for it, the directory fallback, so the page is never empty
(docs/safety.md: the crisis page can never be switched off).

The country is the client's own (`Client.country`) when set, else the practice's (`Practice.country`):
a client who lives elsewhere must be given numbers that work where they are.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources as package_files
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import QuerySet

from spacebetween.accounts.models import Role, User
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record
from spacebetween.clients.models import Client
from spacebetween.practice.countries import ISO_ALPHA2
from spacebetween.practice.models import Practice
from spacebetween.safety.models import CrisisResource

DATA_FILE = "crisis_lines.json"


@dataclass(frozen=True)
class Resource:
    name: str
    phone: str
    text: str
    url: str = ""

    @property
    def tel(self) -> str:
        """The number for a tel: link, when the phone field is one number."""
        digits = self.phone.replace(" ", "")
        return digits if digits.isdigit() else ""


@cache
def crisis_lines() -> dict[str, Any]:
    """The data file, read once per process (it changes only with a release)."""
    text = package_files.files("spacebetween.safety").joinpath("data", DATA_FILE).read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _resource(entry: dict[str, str]) -> Resource:
    return Resource(entry["name"], entry.get("phone", ""), entry["text"], entry.get("url", ""))


def supported_countries() -> dict[str, str]:
    """Country code -> name, for every country the data file lists, in its order."""
    return {code: country["name"] for code, country in crisis_lines()["countries"].items()}


def directory() -> Resource:
    return _resource(crisis_lines()["directory"])


def built_in_for(country: str) -> tuple[Resource, ...]:
    """The entries always shown for `country`, whatever the practice adds. Where no crisis line is
    built in (only an emergency number, or an unknown country) the directory closes the list; where
    not even the emergency number is verified, the generic emergency advice opens it."""
    entries = crisis_lines()["countries"].get(country.upper(), {}).get("resources", [])
    found = tuple(_resource(e) for e in entries)
    has_emergency = any(e["kind"] == "emergency" for e in entries)
    has_helpline = any(e["kind"] == "helpline" for e in entries)
    generic = () if has_emergency else (_resource(crisis_lines()["generic_emergency"]),)
    fallback = () if has_helpline else (directory(),)
    return generic + found + fallback


def country_for(practice: Practice, client: Client | None = None) -> str:
    """The client's own country when recorded, else the practice's."""
    if client is not None and client.country:
        return client.country.upper()
    return practice.country.upper()


def resources_for(practice: Practice, client: Client | None = None) -> list[Resource]:
    """What the client is shown: the practice's own entries for the country, then the built-in ones
    (never empty)."""
    country = country_for(practice, client)
    own = [
        Resource(r.name, r.phone, r.text, r.url)
        for r in CrisisResource.objects.filter(practice=practice, country=country)
    ]
    return own + list(built_in_for(country))


# ------------------------------------------------------------------------------ the practice's own entries
# A practice adds its own entries per country; they are shown before the built-in ones, which it
# cannot remove (the data file; docs/safety.md, "Crisis resources by country").

CRISIS_ADMIN_ONLY = "Only an admin of this practice can change its crisis resources."
COUNTRY_INVALID = "Enter the country as a two-letter ISO 3166-1 code, such as GB or IE."
NAME_REQUIRED = "Enter the name of the service."
TEXT_REQUIRED = "Say in a sentence when to use this service."
PHONE_INVALID = "Enter a phone number using digits only; spaces, +, -, ( and ) are allowed."
URL_INVALID = "Enter a full web address that starts with https://."
CONTACT_REQUIRED = "Enter a phone number, a web address or both, so the client can reach the service."
CRISIS_MAX = {"name": 200, "phone": 64, "url": 200, "text": 1000}
_COUNTRY = re.compile(r"[A-Z]{2}")
_PHONE = re.compile(r"\+?[0-9][0-9 ()\-]*")
_HTTPS = URLValidator(schemes=["https"])


def practice_crisis_resources(practice: Practice) -> QuerySet[CrisisResource]:
    """The practice's own entries, every country, for its admin page."""
    return CrisisResource.objects.filter(practice=practice)


def _require_crisis_admin(actor: User, practice_id: int) -> None:
    if actor.role != Role.ADMIN or actor.practice_id != practice_id or not actor.is_active:
        raise PermissionDenied(CRISIS_ADMIN_ONLY)


def _crisis_fields(country: str, name: str, phone: str, url: str, text: str) -> dict[str, str]:
    """The entry's fields, trimmed and checked; every problem at once, on the field it concerns."""
    values = {
        "country": country.strip().upper(),
        "name": name.strip(),
        "phone": " ".join(phone.split()),
        "url": url.strip(),
        "text": text.strip(),
    }
    errors: dict[str, str] = {}
    if not _COUNTRY.fullmatch(values["country"]):
        errors["country"] = COUNTRY_INVALID
    if not values["name"]:
        errors["name"] = NAME_REQUIRED
    if not values["text"]:
        errors["text"] = TEXT_REQUIRED
    if values["phone"] and not _PHONE.fullmatch(values["phone"]):
        errors["phone"] = PHONE_INVALID
    if values["url"]:
        try:
            _HTTPS(values["url"])
        except ValidationError:
            errors["url"] = URL_INVALID
    for field, limit in CRISIS_MAX.items():
        if field not in errors and len(values[field]) > limit:
            errors[field] = f"Use at most {limit} characters."
    if not values["phone"] and not values["url"] and "phone" not in errors:
        errors["phone"] = CONTACT_REQUIRED
    if errors:
        raise ValidationError(errors)
    return values


def crisis_resource_add(
    *,
    actor: User,
    country: str,
    name: str,
    phone: str = "",
    url: str = "",
    text: str = "",
    request: Any = None,
) -> CrisisResource:
    """A crisis resource of the actor's practice, listed after its existing ones for that country."""
    _require_crisis_admin(actor, actor.practice_id)
    values = _crisis_fields(country, name, phone, url, text)
    with transaction.atomic(durable=True):
        last = (
            CrisisResource.objects.filter(practice_id=actor.practice_id, country=values["country"])
            .order_by("-position")
            .values_list("position", flat=True)
            .first()
        )
        resource = CrisisResource.objects.create(
            practice_id=actor.practice_id, position=0 if last is None else last + 1, **values
        )
        record(
            action=Action.CREATE,
            actor=actor,
            entity_type=Entity.CRISIS_RESOURCE,
            entity_id=resource.pk,
            purpose=Purpose.OPERATIONS,
            request=request,
            detail=f"country:{resource.country}",
        )
    return resource


def crisis_resource_remove(*, actor: User, resource: CrisisResource, request: Any = None) -> None:
    """Remove one of the practice's own entries; the built-in ones are not records and stay."""
    _require_crisis_admin(actor, resource.practice_id)
    with transaction.atomic(durable=True):
        pk, country = resource.pk, resource.country
        deleted, _ = CrisisResource.objects.filter(pk=pk, practice_id=actor.practice_id).delete()
        if not deleted:
            raise ValidationError("This crisis resource was already removed.")
        record(
            action=Action.DELETE,
            actor=actor,
            entity_type=Entity.CRISIS_RESOURCE,
            entity_id=pk,
            purpose=Purpose.OPERATIONS,
            request=request,
            detail=f"country:{country}",
        )


# ------------------------------------------------------------------------------ the practice's country


COUNTRY_ADMIN_ONLY = "Only an admin of this practice can change its country."
COUNTRY_UNKNOWN = "Choose a country from the list (a two-letter ISO 3166-1 code, such as GB or IE)."


def country_choices() -> list[tuple[str, str]]:
    """The supported countries first, by name, then every other code (clients there see the
    generic emergency advice and the directory)."""
    supported = supported_countries()
    first = sorted(((code, f"{name} ({code})") for code, name in supported.items()), key=lambda c: c[1])
    rest = [(code, code) for code in sorted(ISO_ALPHA2 - supported.keys())]
    return first + rest


def practice_country_set(*, actor: User, country: str, request: Any = None) -> Practice:
    """Set the actor's practice's country (admin of that practice only; audited). It picks the crisis
    lines shown to every client whose own country is not recorded."""
    if actor.role != Role.ADMIN or not actor.is_active or actor.practice_id is None:
        raise PermissionDenied(COUNTRY_ADMIN_ONLY)
    code = country.strip().upper()
    if code not in ISO_ALPHA2:
        raise ValidationError({"country": COUNTRY_UNKNOWN})
    with transaction.atomic(durable=True):
        practice = Practice.objects.select_for_update().get(pk=actor.practice_id)
        previous = practice.country
        if previous != code:
            practice.country = code
            practice.save(update_fields=["country"])
        record(
            action=Action.UPDATE,
            actor=actor,
            entity_type=Entity.PRACTICE,
            entity_id=practice.pk,
            purpose=Purpose.OPERATIONS,
            request=request,
            detail=f"country:{previous}->{code}",
        )
    return practice
