"""Fixtures for links and answering: Carol's PHQ-9 assignment (from tests/conftest.py's cast) and a link
to it; helpers.py answers through the pages."""

from __future__ import annotations

import pytest

from spacebetween import clock
from spacebetween.accounts.models import User
from spacebetween.answering.services import assignment_create
from spacebetween.clients.models import Episode
from spacebetween.delivery import services
from spacebetween.measures.models import Assignment

# The browser (tests/browser) and SMTP sink (tests/notifications) fixtures, for test_browser_link.py.
from tests.browser.conftest import (  # noqa: F401
    browser_page,
    chromium,
    demo_practice,
    demo_therapist,
    live_site,
    screenshot,
    sign_in,
)
from tests.notifications.conftest import smtp_down, smtp_sink  # noqa: F401


@pytest.fixture
def assignment(alice: User, episode: Episode) -> Assignment:
    now = clock.now()
    return assignment_create(actor=alice, episode=episode, instrument_id="phq9", due_at=now)


@pytest.fixture
def token(alice: User, assignment: Assignment) -> str:
    return services.link_issue(actor=alice, assignment=assignment)
