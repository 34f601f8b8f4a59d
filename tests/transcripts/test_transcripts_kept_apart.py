"""Transcripts never leave the practice and go with the client: not in the subject access archive,
not read by any module outside spacebetween/transcripts (the API, reports, exports), deleted when the
client is anonymised or erased (spacebetween.rights)."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse

from spacebetween.accounts.models import User
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Client, EndReason, Episode, Session
from spacebetween.rights.erasure import client_erase
from spacebetween.transcripts.models import Transcript, Turn
from tests.conftest import FakeClock, signed_in
from tests.transcripts.conftest import SECRET

PACKAGE = Path(__file__).resolve().parent.parent.parent / "spacebetween"
pytestmark = pytest.mark.django_db


def _end(alice: User, episode: Episode) -> None:
    clinical.episode_update(
        actor=alice,
        episode=episode,
        referral_reason=episode.referral_reason,
        started_on=episode.started_on,
        ended_on=dt.date(2026, 10, 30),
        end_reason=EndReason.COMPLETED,
        shared_for_supervision=False,
    )


def test_the_archive_never_holds_a_transcript(alice: User, client_record: Client, coded: Transcript) -> None:
    response = signed_in(alice).post(reverse("client_export", args=[client_record.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert "summary.html" in archive.namelist()  # the right archive
    for name in archive.namelist():
        data = archive.read(name)
        assert SECRET.encode() not in data and b"Dr Ames" not in data, name


def test_no_module_outside_the_package_reads_transcripts() -> None:
    pattern = re.compile(r"transcripts\.models|transcripts_turn|transcripts_transcript|Transcript\.objects")
    outside = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).parts[0] != "transcripts"
        and pattern.search(path.read_text(encoding="utf-8"))
    )
    # Erasure deletes them; nothing else outside the package names them (backup test-decrypts them
    # through transcripts.services' contexts, by model label).
    assert outside == ["rights/erasure.py"], outside


def test_anonymising_the_client_deletes_the_transcripts(
    alice: User, client_record: Client, episode: Episode, coded: Transcript
) -> None:
    _end(alice, episode)
    client_erase(actor=alice, client=client_record, mode="anonymise", confirm=str(client_record.pk))
    assert not Transcript.objects.exists() and not Turn.objects.exists()
    assert Session.objects.filter(episode=episode).exists()  # the de-identified record stays


def test_erasing_the_client_after_retention_deletes_the_transcripts(
    alice: User, client_record: Client, episode: Episode, coded: Transcript, clock: FakeClock
) -> None:
    _end(alice, episode)
    clock.set(dt.datetime(2035, 1, 1, tzinfo=dt.UTC))  # past the default 8 years after the episode
    client_erase(actor=alice, client=client_record, mode="erase", confirm=str(client_record.pk))
    assert not Transcript.objects.exists() and not Turn.objects.exists()
    assert not Client.objects.filter(pk=client_record.pk).exists()
