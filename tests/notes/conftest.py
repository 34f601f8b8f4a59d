"""Notes helpers on top of the fixed cast (tests/conftest.py): alice treats Carol; sam supervises alice.

- `shared_episode`: Alice's episode of Carol, shared with Sam for supervision.
- `PROGRESS` / `PROCESS`: the text of a progress note and of a process note, distinct enough to be
  searched for anywhere (a page, a file, the database's bytes).
"""

from __future__ import annotations

import pytest

from spacebetween.accounts.models import User
from spacebetween.clients.models import Episode
from tests.conftest import share_for_supervision

PROGRESS = "Explored grief about her father; agreed a weekly walk; review sleep next time"
PROCESS = "Felt pulled to rescue her; she idealises me as her father never was mirabilis"


@pytest.fixture
def shared_episode(alice: User, episode: Episode) -> Episode:
    return share_for_supervision(alice, episode)


# The browser fixtures (tests/browser/conftest.py), for test_notes_in_browser.py.
from tests.browser.conftest import (  # noqa: E402, F401
    browser_page,
    chromium,
    demo_practice,
    demo_therapist,
    live_site,
    sign_in,
)
