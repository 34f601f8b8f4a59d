"""Reflection helpers on top of the fixed cast (tests/conftest.py).

- `shared_episode`: Alice's episode of Carol, shared with Sam for supervision.
- `therapist_alliance_form`: the practice imports a therapist-rated alliance form (the WAI-SR file
  relabelled as a therapist form, standing in for a licensed text) and enables the licensed pack.
- `RATING`: a valid session rating.
"""

from __future__ import annotations

import json

import pytest

from spacebetween.accounts.models import User
from spacebetween.clients.models import Episode
from spacebetween.core import instruments as catalogue
from spacebetween.measures import services as measures
from spacebetween.measures.selectors import licensed_pack, pack_terms_digest
from tests.conftest import share_for_supervision

RATING = {"bond": 7, "goals": 6, "tasks": 5, "overall": 8}
NOTE = "Wanted to rescue her when she spoke about her mother"


@pytest.fixture
def shared_episode(alice: User, episode: Episode) -> Episode:
    return share_for_supervision(alice, episode)


def therapist_form_definition() -> dict[str, object]:
    doc = json.loads(catalogue.get("wai-sr", include_licensed=True).path.read_text(encoding="utf-8"))  # type: ignore[union-attr]
    doc["id"], doc["respondent"], doc["title"] = "practice-wai-t", "therapist", "Our therapist alliance form"
    return doc


@pytest.fixture
def therapist_alliance_form(admin: User) -> str:
    measures.instrument_import(
        actor=admin, filename="wai-t.json", content=json.dumps(therapist_form_definition()).encode()
    )
    measures.licensed_pack_accept(actor=admin, terms_digest=pack_terms_digest(licensed_pack()), accepted=True)
    return "practice-wai-t"


from tests.browser.conftest import (  # noqa: E402, F401  (the browser fixtures, for the labels' browser test)
    browser_page,
    chromium,
    demo_practice,
    demo_therapist,
    live_site,
    sign_in,
)
