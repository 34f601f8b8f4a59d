"""Transcript helpers on top of the fixed cast (tests/conftest.py): alice treats Carol; sam supervises
alice; bob is a colleague.

- `VTT`: a short session as Microsoft Teams exports it (voice tags), two speakers and a third person
  to leave out; the words are distinct enough to be searched for anywhere (a page, a file, the
  database's bytes): `SECRET` is in the client's words.
- `shared_episode`: Alice's episode of Carol, shared with Sam for supervision.
- `coded`: the session's transcript uploaded and coded (Dr Ames is the therapist, Carol the client).
"""

from __future__ import annotations

import pytest

from spacebetween.accounts.models import User
from spacebetween.clients.models import Episode, Session
from spacebetween.transcripts import services
from spacebetween.transcripts.models import Transcript
from tests.conftest import share_for_supervision

SECRET = "quillfeather"
VTT = f"""WEBVTT

1
00:00:01.000 --> 00:00:04.000
<v Dr Ames>How have things been since we last met?</v>

2
00:00:04.500 --> 00:00:09.000
<v Carol>Honestly I have been really anxious and sad, the {SECRET} letter upset me.</v>

3
00:00:09.000 --> 00:00:12.000
<v Carol>I want to change how I drink, I think I can cut down this month.</v>

4
00:00:12.500 --> 00:00:16.000
<v Dr Ames>You sound really anxious, and you want to cut down.</v>

5
00:00:16.000 --> 00:00:18.000
<v Interpreter>One moment please.</v>

6
00:00:18.500 --> 00:00:23.000
<v Carol>But drinking is the only thing that helps me relax, I don't see why I should stop.</v>

7
00:00:23.000 --> 00:00:27.000
<v Dr Ames>What would you tell a friend who said that? What makes you think it helps?</v>

8
00:00:27.000 --> 00:00:31.000
<v Dr Ames>It might help to keep a diary of when you drink; many people find that useful.</v>
""".encode()
THERAPIST, CLIENT, OTHER = 0, 1, 2  # speaker indexes, in order of first appearance in VTT
ROLES = {THERAPIST: "therapist", CLIENT: "client", OTHER: "ignore"}


@pytest.fixture
def shared_episode(alice: User, episode: Episode) -> Episode:
    return share_for_supervision(alice, episode)


@pytest.fixture
def coded(alice: User, session: Session) -> Transcript:
    services.transcript_upload(actor=alice, session=session, data=VTT, filename="session.vtt")
    return services.transcript_code(actor=alice, session=session, roles=ROLES)


# The browser fixtures (tests/browser/conftest.py), for test_transcripts_in_browser.py; an episode
# with attended sessions and scores (tests/insights/conftest.py), for the episode's page.
from tests.browser.conftest import (  # noqa: E402, F401
    browser_page,
    chromium,
    demo_practice,
    demo_therapist,
    live_site,
    sign_in,
)
from tests.insights.conftest import course  # noqa: E402, F401
