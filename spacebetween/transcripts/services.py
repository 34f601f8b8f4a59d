"""Writes: the treating therapist uploads a session's transcript, says which speaker is who (which
codes it), and deletes it.

Every write validates first and changes nothing when refused (ValidationError naming the field,
PermissionDenied audited as denied), then writes the change and its audit row (ids only, never a word
of the transcript) in one durable transaction. The turns' words and the speakers' names are encrypted
before they reach the database.

Coding happens once, when the speakers are mapped, not on every view: the codes then stay the ones
the therapist first saw (with the model version that gave them) when the shipped model is retrained,
and the episode's chart reads stored numbers without decrypting every session. It is fast either way
(the shipped coder does about 2,000 turns a second: docs/performance.md).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from spacebetween import clock, crypto
from spacebetween.accounts.models import User
from spacebetween.audit.models import Action, Entity, Purpose
from spacebetween.audit.services import record, record_denied
from spacebetween.clients.access import sessions_for
from spacebetween.clients.models import Session
from spacebetween.core import transcript_figures
from spacebetween.core.transcript_formats import MAX_BYTES, TranscriptFormatError, parse
from spacebetween.core.transcripts.model import MODEL_PATH, Coder
from spacebetween.core.transcripts.table import Utterance
from spacebetween.transcripts.models import SPEAKERS_CONTEXT, TURN_CONTEXT, Role, Transcript, Turn

NOT_ALLOWED = "Only the session's treating therapist can add, code or delete its transcript."
NOT_YET = "This session has not taken place yet; add its transcript afterwards."
ALREADY = "This session already has a transcript; delete it first to upload another."
NO_FILE = "Choose a transcript file to upload."
TOO_BIG = f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; a transcript may be at most that."
NO_TRANSCRIPT = "This session has no transcript."
ROLE_MISSING = "Say who “{name}” is: therapist, client, or leave out."
NEED_BOTH = "Choose at least one speaker as the therapist and one as the client."


def speakers_context(session_id: int) -> str:
    return SPEAKERS_CONTEXT.format(session_id=session_id)


def turn_context(transcript_id: int, number: int) -> str:
    return TURN_CONTEXT.format(transcript_id=transcript_id, number=number)


@functools.lru_cache(maxsize=1)
def coder() -> tuple[Coder, str]:
    """The shipped coder (loaded once per process) and its version: the weights file's hash."""
    digest = hashlib.sha256(MODEL_PATH.read_bytes()).hexdigest()[:12]
    return Coder.load(), f"core.transcripts model.npz sha256:{digest}"


def _treating(actor: User, session: Session, action: Action) -> Session:
    """The session, fetched afresh, if `actor` treats it; else the refusal, audited."""
    if not sessions_for(actor, write=True).filter(pk=session.pk).exists():
        record_denied(
            actor=actor, entity_type=Entity.SESSION, entity_id=session.pk, detail="transcript", action=action
        )
        raise PermissionDenied(NOT_ALLOWED)
    return Session.objects.select_related("episode").get(pk=session.pk)


def transcript_upload(
    *,
    actor: User,
    session: Session,
    data: bytes | None,
    filename: str = "",
    now: dt.datetime | None = None,
    request: Any = None,
) -> Transcript:
    """Read the file (WebVTT, SRT, plain text or CSV: `core.transcript_formats`) and store its turns,
    encrypted, on the session, uncoded until the speakers are mapped. Refused, writing nothing: anyone
    but the treating therapist, a session still to come, a session with a transcript already, no file,
    a file too big or not readable (the message names the line)."""
    now = now or clock.now()
    session = _treating(actor, session, Action.CREATE)
    if session.starts_at > now:
        raise ValidationError(NOT_YET)
    if Transcript.objects.filter(session=session).exists():
        raise ValidationError(ALREADY)
    if not data:
        raise ValidationError({"file": NO_FILE})
    if len(data) > MAX_BYTES:
        raise ValidationError({"file": TOO_BIG})
    try:
        parsed = parse(data, filename)
    except TranscriptFormatError as exc:
        raise ValidationError({"file": str(exc)}) from None
    names = parsed.speakers
    index = {name: i for i, name in enumerate(names)}
    with transaction.atomic(durable=True):
        if Transcript.objects.select_for_update().filter(session=session).exists():
            raise ValidationError(ALREADY)
        transcript = Transcript.objects.create(
            session=session,
            uploaded_by=actor,
            uploaded_at=now,
            source_format=parsed.format,
            speakers=crypto.encrypt(json.dumps(names), context=speakers_context(session.pk)),
        )
        Turn.objects.bulk_create(
            Turn(
                transcript=transcript,
                number=n,
                speaker=index[turn.speaker],
                text=crypto.encrypt(turn.text, context=turn_context(transcript.pk, n)),
                start_ms=turn.start_ms,
            )
            for n, turn in enumerate(parsed.turns, start=1)
        )
        record(
            action=Action.CREATE,
            actor=actor,
            entity_type=Entity.TRANSCRIPT,
            entity_id=transcript.pk,
            purpose=Purpose.TREATMENT,
            request=request,
            detail=f"{parsed.format}, {len(parsed.turns)} turns, {len(names)} speakers",
        )
    return transcript


def speaker_names(transcript: Transcript) -> list[str]:
    names: list[str] = json.loads(
        crypto.decrypt(transcript.speakers, context=speakers_context(transcript.session_id))
    )
    return names


def _clean_roles(names: list[str], roles: Mapping[int, str]) -> dict[str, str]:
    errors = {
        f"speaker_{i}": ROLE_MISSING.format(name=name)
        for i, name in enumerate(names)
        if roles.get(i) not in Role.values
    }
    if errors:
        raise ValidationError(errors)
    chosen = {str(i): roles[i] for i in range(len(names))}
    if not {Role.THERAPIST, Role.CLIENT} <= set(chosen.values()):
        raise ValidationError(NEED_BOTH)
    return chosen


def transcript_code(
    *,
    actor: User,
    session: Session,
    roles: Mapping[int, str],
    now: dt.datetime | None = None,
    request: Any = None,
) -> Transcript:
    """Say who each speaker is (`roles`: speaker index → therapist / client / ignore), then code the
    therapist's and the client's turns with the shipped model and store the codes and the session's
    figures. Mapping again recodes. Refused, writing nothing: anyone but the treating therapist, no
    transcript, a speaker without a role, no therapist or no client."""
    now = now or clock.now()
    session = _treating(actor, session, Action.UPDATE)
    transcript = Transcript.objects.filter(session=session).first()
    if transcript is None:
        raise ValidationError(NO_TRANSCRIPT)
    chosen = _clean_roles(speaker_names(transcript), roles)
    turns = list(transcript.turns.order_by("number"))
    kept = [t for t in turns if chosen[str(t.speaker)] != Role.IGNORE]
    texts = [crypto.decrypt(t.text, context=turn_context(transcript.pk, t.number)) for t in kept]
    speakers = [chosen[str(t.speaker)] for t in kept]
    model, version = coder()
    codes = model.code(
        [
            Utterance("session", str(t.number), speaker, text, t.number)
            for t, speaker, text in zip(kept, speakers, texts, strict=True)
        ],
        refine=True,  # open/closed questions, simple/complex reflections: the page's two shares
    )
    by_number = {t.number: code for t, code in zip(kept, codes, strict=True)}
    for t in turns:
        t.code = by_number.get(t.number, "")
    with transaction.atomic(durable=True):
        Turn.objects.bulk_update(turns, ["code"])
        transcript.roles, transcript.coded_at, transcript.model_version = chosen, now, version
        transcript.summary = transcript_figures.summary(speakers, texts, codes)
        transcript.save(update_fields=["roles", "coded_at", "model_version", "summary"])
        record(
            action=Action.UPDATE,
            actor=actor,
            entity_type=Entity.TRANSCRIPT,
            entity_id=transcript.pk,
            purpose=Purpose.TREATMENT,
            request=request,
            detail=f"coded {len(kept)} turns",
        )
    return transcript


def transcript_delete(*, actor: User, session: Session, request: Any = None) -> None:
    """Delete the session's transcript, its turns and codes. Refused: anyone but the treating
    therapist; no transcript."""
    session = _treating(actor, session, Action.DELETE)
    with transaction.atomic(durable=True):
        transcript = Transcript.objects.select_for_update().filter(session=session).first()
        if transcript is None:
            raise ValidationError(NO_TRANSCRIPT)
        pk = transcript.pk
        transcript.delete()
        record(
            action=Action.DELETE,
            actor=actor,
            entity_type=Entity.TRANSCRIPT,
            entity_id=pk,
            purpose=Purpose.TREATMENT,
            request=request,
        )
