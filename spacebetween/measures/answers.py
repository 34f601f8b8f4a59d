"""Reads: a client's questionnaire answers item by item, for the clinician's answers page.

Each response is shown with the definition it was answered in (the practice's import of that id and
version, else the shipped one of that version): every item's text, the chosen answer's wording and
value, the scale scores as stored, and which items are risk items and whether their rule fired.
A response whose definition is gone (withdrawn, or a shipped version that no longer ships) is still
shown, with the stored item ids and values: the record does not lose what the client answered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator

from spacebetween.accounts.models import User
from spacebetween.clients.access import episodes_for
from spacebetween.clients.models import Client, Episode
from spacebetween.core import instruments as catalogue
from spacebetween.core.instruments import Instrument
from spacebetween.measures.models import ImportedInstrument, Response

ANSWERS_PER_PAGE = 10


@dataclass(frozen=True)
class AnswerRow:
    item_id: str
    text: str  # the item's wording; its id when the definition is gone
    value: float | None  # None: not answered
    label: str  # the chosen answer's wording; "" when not answered or the wording is unknown
    risk_item: bool = False
    risk_fired: bool | None = None  # only for a risk item: True raised a flag, None left unanswered

    @property
    def plain_value(self) -> str:
        if self.value is None:
            return ""
        return str(int(self.value)) if float(self.value).is_integer() else str(self.value)


@dataclass(frozen=True)
class ScoreRow:
    title: str
    score: float | None  # None: not scored (too many items missing)
    band: str | None
    caseness: bool | None
    prorated: bool

    @property
    def plain_score(self) -> str:
        if self.score is None:
            return ""
        return str(int(self.score)) if float(self.score).is_integer() else f"{self.score:.2f}"


@dataclass(frozen=True)
class AnsweredQuestionnaire:
    response_id: int
    episode: Episode
    title: str  # the instrument's name; its id when the definition is gone
    version: str
    submitted_at: dt.datetime
    submitted_via: str  # the display label
    definition_known: bool
    scores: list[ScoreRow]
    answers: list[AnswerRow]
    any_risk: bool
    risk_unanswered: bool


@dataclass(frozen=True)
class AnswersPage:
    client: Client
    page: Page[Response]
    questionnaires: list[AnsweredQuestionnaire]


def _definitions(practice_id: int, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], Instrument]:
    """The definition of each (id, version) wanted: the practice's import of that version first (as
    `selectors.assignment_instrument` has it), else the shipped one when its version matches. One
    query: the practice's imports of the ids wanted."""
    shipped = catalogue.registry(include_licensed=True)
    found: dict[tuple[str, str], Instrument] = {}
    imported_ids = {iid for iid, _ in wanted}
    imports = ImportedInstrument.objects.filter(practice_id=practice_id, instrument_id__in=imported_ids)
    for imported in imports.order_by("imported_at", "id"):
        key = (imported.instrument_id, imported.version)
        if key in wanted:
            found[key] = catalogue.build_instrument(
                imported.definition, f"imported:{imported.instrument_id}@{imported.version}"
            )
    for iid, version in wanted - found.keys():
        instrument = shipped.get(iid)
        if instrument is not None and instrument.version == version:
            found[(iid, version)] = instrument
    return found


def _answers(instrument: Instrument | None, response: Response) -> list[AnswerRow]:
    stored: Mapping[str, Any] = response.answers or {}
    risk: Mapping[str, bool | None] = response.risk or {}
    if instrument is None:
        return [AnswerRow(item_id, item_id, value, "") for item_id, value in stored.items()]
    rules_by_item: dict[str, list[str]] = {}
    for rule in instrument.risk_rules:
        rules_by_item.setdefault(rule.item, []).append(rule.id)
    rows = []
    for item in instrument.items:
        value = stored.get(item.id)
        option = item.option_for(value) if value is not None else None
        rules = rules_by_item.get(item.id, [])
        fired: bool | None = None
        if rules:  # the stored rule results, as the rest of the record reads them
            if any(risk.get(rule_id) is True for rule_id in rules):
                fired = True
            elif value is not None and not any(
                rule_id in risk and risk[rule_id] is None for rule_id in rules
            ):
                fired = False
        rows.append(
            AnswerRow(
                item_id=item.id,
                text=item.text,
                value=value,
                label=option.display if option is not None else "",
                risk_item=bool(rules),
                risk_fired=fired,
            )
        )
    return rows


def _scores(instrument: Instrument | None, response: Response) -> list[ScoreRow]:
    stored: Mapping[str, Mapping[str, Any]] = response.scores or {}
    titles = {s.id: s.title for s in instrument.scales} if instrument is not None else {}
    order = list(titles) + [sid for sid in stored if sid not in titles]
    return [
        ScoreRow(
            title=titles.get(sid, sid),
            score=stored[sid].get("score"),
            band=stored[sid].get("band"),
            caseness=stored[sid].get("caseness"),
            prorated=bool(stored[sid].get("prorated")),
        )
        for sid in order
        if sid in stored
    ]


def client_answers(
    user: User, client: Client, page_number: int | str | None = 1, *, per_page: int = ANSWERS_PER_PAGE
) -> AnswersPage:
    """One page of the client's questionnaire responses, newest first, each with its items, answers and
    scores: only the episodes `user` may read (`clients.access.episodes_for`: a supervisor sees the
    episodes shared with them). The caller fetched `client` through `clients.access`. Four queries at
    most whatever the number of responses: the episodes, the count, the page, the practice's imports."""
    episodes = {e.pk: e for e in episodes_for(user).filter(client=client)}
    responses = (
        Response.objects.filter(assignment__episode_id__in=list(episodes))
        .select_related("assignment")
        .order_by("-submitted_at", "-id")
    )
    page = Paginator(responses, per_page).get_page(page_number)
    shown = list(page.object_list)
    definitions = (
        _definitions(client.practice_id, {(r.instrument_id, r.instrument_version) for r in shown})
        if shown
        else {}
    )
    questionnaires = []
    for response in shown:
        instrument = definitions.get((response.instrument_id, response.instrument_version))
        risk = response.risk or {}
        questionnaires.append(
            AnsweredQuestionnaire(
                response_id=response.pk,
                episode=episodes[response.assignment.episode_id],
                title=instrument.title if instrument is not None else response.instrument_id,
                version=response.instrument_version,
                submitted_at=response.submitted_at,
                submitted_via=response.get_submitted_via_display(),
                definition_known=instrument is not None,
                scores=_scores(instrument, response),
                answers=_answers(instrument, response),
                any_risk=response.any_risk,
                risk_unanswered=any(fired is None for fired in risk.values()),
            )
        )
    return AnswersPage(client=client, page=page, questionnaires=questionnaires)
