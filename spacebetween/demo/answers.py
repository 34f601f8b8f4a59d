"""Synthetic questionnaire answers for the demo practice: each episode's clinical course as plain data.

Pure and seeded: no database, no clock. Given a random generator, the episode's attended sessions
and a course profile, `plan_course` returns every questionnaire the client answers (with the exact
item answers, the score they must give and when they were submitted) and, where asked, the
therapist's reflection after each session. Nothing here is modelled on a real person.

When an answer is submitted decides which session it belongs to (the rule the insights pages use,
`spacebetween.insights.series`; docs/insights.md):

* a pre-session measure (PHQ-9, GAD-7, and the ingredient measures SCS-SF, MAAS and RFQ-8)
  submitted after session k-1 started and before session k starts counts as session k; the demo's
  clients answer the evening before or that morning, and the intake (session 1) that morning;
* an alliance measure (WAI-SR) submitted after session k started and before session k+1 starts is
  about session k; the demo's clients answer it the same evening;
* follow-ups are answered after the episode's end date, 3 months later (core.schedule).

The courses: symptom totals follow a noisy log-linear course from the intake (the form of Finch,
Lambert & Schaalje 2001, Clin Psychol Psychother 8:231, which the practice's expected-recovery fit
uses; docs/insights.md). Most clients improve, some stay flat and about 8% get worse (5-14% of
clients worsen in therapy: Lambert & Shimokawa 2011, Psychotherapy 48:72). The ingredient measures rise a
little as symptoms fall, and their session-to-session wobble leads the next symptom score, so that a
within-client lagged association is there to be estimated. The client's alliance (WAI-SR) is high
and fairly stable.

Item answers are drawn, uniformly among all answer patterns that give the target score, from the
instrument's own definition (items, options, reverse keys, recodes); an item with a risk rule is
held at an answer that does not meet it, so the demo raises no risk flag (PHQ-9 item 9 is always
"Not at all").
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

from spacebetween.core import instruments as catalogue
from spacebetween.core.alliance import AllianceRules
from spacebetween.core.instruments import Instrument, Scale, compare
from spacebetween.core.schedule import (
    AFTER_SESSION_DAYS,
    BEFORE_SESSION_DAYS,
    FOLLOW_UP_MONTHS,
    LOCAL_DUE_TIME,
    add_months,
    local_at,
)

PHQ9, GAD7, WAI_SR = "phq9", "gad7", "wai-sr"
SCS_SF, MAAS, RFQ8 = "scs-sf", "maas", "rfq8"
SYMPTOM_MEASURES = (PHQ9, GAD7)  # before every session
INGREDIENT_MEASURES = (SCS_SF, MAAS, RFQ8)  # before every INGREDIENT_EVERY-th session, from session 1
INGREDIENT_EVERY = 3
ALLIANCE_MEASURE = WAI_SR  # after every session, from session 1 (licensed pack)
FOLLOW_UP_AFTER_MONTHS = FOLLOW_UP_MONTHS[0]  # 3 months after the end

# The session at which a course has made its "change" (log-linear: ln k / ln 12); long courses go on
# along the same curve, held within the scale.
REFERENCE_SESSION = 12


class Profile(StrEnum):
    IMPROVING = "improving"
    FLAT = "flat"
    DETERIORATING = "deteriorating"
    # Improving steadily with little noise, reliably better by the no-improvement session: the demo
    # therapist's other open episodes, so that the demo client stands out on her caseload.
    ON_COURSE = "on_course"
    # The demo client's story: PHQ-9 from 16 up to 19-20, GAD-7 flat and high, an alliance rupture at
    # about session 7-8 repaired two sessions later.
    NOT_ON_TRACK = "not_on_track"


# About 8% get worse (5-14% in Lambert & Shimokawa 2011; mbc-anchors.md §3); the improving share is
# a demo choice in line with the 46-72% "success" rates of mbc-anchors.md §3 (Kaiser, PHQ-9 >= 10).
PROFILE_WEIGHTS = {Profile.IMPROVING: 0.72, Profile.FLAT: 0.20, Profile.DETERIORATING: 0.08}
# Fraction of the intake score gone by REFERENCE_SESSION (negative: worse), per profile.
CHANGE_AT_REFERENCE = {
    Profile.IMPROVING: (0.35, 0.75),
    Profile.FLAT: (-0.05, 0.15),
    Profile.DETERIORATING: (-0.45, -0.2),
    Profile.ON_COURSE: (0.5, 0.7),
}
# The demo client's PHQ-9: intake and the latest score (issue #5's browser story).
STORY_PHQ9_INTAKE, STORY_PHQ9_LATEST = 16, (19, 20)
STORY_GAD7 = 15
# Her WAI-SR rupture: at least this many points below the mean of her previous 3 scores (the drop
# rule of mbc-anchors.md §5.6, "drop vs the client's rolling mean of the last 3 sessions"), and
# repaired (back at or above that mean) two sessions later.
RUPTURE_WINDOW = AllianceRules.baseline_window
RUPTURE_DROP = 8
RUPTURE_SESSIONS = (7, 8)
REPAIR_AFTER = 2
# Outside the story the demo therapist's open episodes keep a calm alliance: no score falls this far
# below the mean of the previous 3, which is under the insights' default rupture threshold (10% of
# the WAI-SR range, 4.8 points), so only the demo client shows a rupture on her caseload.
CALM_DROP = 4
P_RUPTURE_ELSEWHERE = 0.2  # other episodes: some ruptures and repairs (they are common, §3)
P_FOLLOW_UP = 0.5  # completed episodes whose client answers the 3-month follow-up
P_FEELINGS = 0.7  # reflections with a counter-transference check-in
P_NOTE = 0.12  # check-ins with a short note
THERAPIST_SEES = 0.5  # share of the client's session-to-session alliance change the therapist rates

# Process measures as scale means (each instrument's own range), before any change: low-average
# starting points, a rise with symptom improvement, and a wobble shared across them.
PROCESS_BASE = {SCS_SF: (2.2, 3.0), MAAS: (3.0, 3.8), "rfq8_c": (0.7, 1.2), "rfq8_u": (0.8, 1.4)}
PROCESS_GAIN = {SCS_SF: 0.8, MAAS: 0.6, "rfq8_c": 0.5, "rfq8_u": -0.5}
PROCESS_WOBBLE = {SCS_SF: 0.15, MAAS: 0.15, "rfq8_c": 0.1, "rfq8_u": -0.1}
WOBBLE_AR = 0.5  # session-to-session persistence of the wobble
# How much one unit of wobble at session k lowers the next symptom score (points): the lag.
LAGGED_EFFECT = {PHQ9: 0.8, GAD7: 0.6}


@functools.cache
def instruments() -> Mapping[str, Instrument]:
    return catalogue.registry(include_licensed=True)


# --- answers that give a target score, from the definition ---


def _contribution(instrument: Instrument, scale: Scale, item_id: str, raw: float) -> float:
    """What one answer adds to the scale's sum, as core.scoring computes it: recode, then reverse."""
    if item_id not in scale.items:
        return 0.0
    value = raw
    recode = scale.recode_for(item_id)
    if recode is not None:
        value = dict(recode.pairs)[float(raw)]
    if item_id in scale.reverse:
        item = instrument.item(item_id)
        value = float(item.min) + float(item.max) - value
    return value


def _safe_options(instrument: Instrument, item_id: str) -> tuple[int | float, ...]:
    """The item's answers that meet none of the instrument's risk rules."""
    rules = [r for r in instrument.risk_rules if r.item == item_id]
    return tuple(
        v for v in instrument.item(item_id).values if not any(compare(r.operator, v, r.value) for r in rules)
    )


@dataclass(frozen=True)
class _Table:
    """Per targeted item: (answer, contribution to each targeted scale); and per item position the
    number of ways the remaining items reach each sum (for uniform sampling)."""

    items: tuple[str, ...]
    options: tuple[tuple[tuple[int | float, tuple[int, ...]], ...], ...]
    ways: tuple[Mapping[tuple[int, ...], int], ...]


@functools.cache
def _table(instrument_id: str, scale_ids: tuple[str, ...]) -> _Table:
    instrument = instruments()[instrument_id]
    scales = [next(s for s in instrument.scales if s.id == sid) for sid in scale_ids]
    items = tuple(i.id for i in instrument.items if any(i.id in s.items for s in scales))
    options = []
    for item_id in items:
        row = []
        for raw in _safe_options(instrument, item_id):
            adds = [_contribution(instrument, s, item_id, raw) for s in scales]
            if any(a != int(a) for a in adds):
                raise ValueError(f"{instrument_id}: {item_id} adds a fraction to a scale sum")
            row.append((raw, tuple(int(a) for a in adds)))
        options.append(tuple(row))
    ways: list[dict[tuple[int, ...], int]] = [{} for _ in range(len(items) + 1)]
    ways[-1][(0,) * len(scales)] = 1
    for i in range(len(items) - 1, -1, -1):
        for rest, count in ways[i + 1].items():
            for _, parts in options[i]:
                total = tuple(a + b for a, b in zip(rest, parts, strict=True))
                ways[i][total] = ways[i].get(total, 0) + count
    return _Table(items, tuple(options), tuple(ways))


def highest_sum(instrument_id: str) -> int:
    """The highest sum of the first scale that safe answers reach."""
    scale = _first_scale(instrument_id)
    return max(total[0] for total in _table(instrument_id, (scale.id,)).ways[0])


def reachable(instrument_id: str, targets: Mapping[str, int]) -> bool:
    """Whether some answers (risk items held safe) give these scale sums."""
    table = _table(instrument_id, tuple(targets))
    return tuple(targets.values()) in table.ways[0]


def answers_for(instrument_id: str, targets: Mapping[str, int], rng: random.Random) -> dict[str, int | float]:
    """Item answers whose scale sums (before a mean) are `targets` {scale id: sum}, drawn uniformly
    among all answer patterns that give them; items outside those scales (the PHQ-9 and GAD-7
    "how difficult" item) follow the severity of the first one. The services score them again when
    they are submitted (and tests/demo check that the scores are the targets)."""
    instrument = instruments()[instrument_id]
    table = _table(instrument_id, tuple(targets))
    remaining = tuple(targets.values())
    if remaining not in table.ways[0]:
        raise ValueError(f"no answers to {instrument_id} give the scale sums {dict(targets)}")
    answers: dict[str, int | float] = {}
    for i, item_id in enumerate(table.items):
        choices = [
            (raw, rest)
            for raw, parts in table.options[i]
            for rest in (tuple(a - b for a, b in zip(remaining, parts, strict=True)),)
            if rest in table.ways[i + 1]
        ]
        raw, remaining = rng.choices(choices, weights=[table.ways[i + 1][r] for _, r in choices])[0]
        answers[item_id] = raw
    first = next(s for s in instrument.scales if s.id == next(iter(targets)))
    share = (_scale_score(first, next(iter(targets.values()))) - first.range[0]) / (
        first.range[1] - first.range[0]
    )
    if first.direction == "higher_is_better":
        share = 1 - share
    for item in instrument.items:
        if item.id not in answers:
            values = _safe_options(instrument, item.id)
            answers[item.id] = values[min(len(values) - 1, round(share * (len(values) - 1)))]
    return answers


def _scale_score(scale: Scale, total: int) -> float:
    score = total / len(scale.items) if scale.method == "mean" else float(total)
    return score * scale.multiply if scale.multiply is not None else score


# --- the course: scores per session ---


@dataclass(frozen=True)
class AttendedSession:
    starts_at: dt.datetime
    minutes: int


@dataclass(frozen=True)
class PlannedResponse:
    instrument_id: str
    session_number: int  # the session it belongs to by the rule above; 0 = a follow-up
    due_at: dt.datetime
    expires_at: dt.datetime
    submitted_at: dt.datetime
    answers: Mapping[str, int | float]
    score: float  # what the instrument's first scale must score for these answers
    scale_sums: Mapping[str, int]


@dataclass(frozen=True)
class PlannedReflection:
    session_number: int
    recorded_at: dt.datetime
    ratings: Mapping[str, int]
    feelings: tuple[str, ...]
    intensity: int | None
    note: str


@dataclass
class CoursePlan:
    profile: Profile
    responses: list[PlannedResponse] = field(default_factory=list)
    reflections: list[PlannedReflection] = field(default_factory=list)

    def scores(self, instrument_id: str) -> list[float]:
        """One instrument's in-treatment scores in session order (follow-ups left out)."""
        return [r.score for r in self.responses if r.instrument_id == instrument_id and r.session_number > 0]


@dataclass(frozen=True)
class TherapistView:
    """What the therapist records after a session (relationship.measures): the session rating's item
    ids and range, and counter-transference feelings and notes for easy and hard sessions."""

    rating_items: tuple[str, ...]
    rating_min: int
    rating_max: int
    easy: tuple[str, ...]
    hard: tuple[str, ...]
    easy_notes: tuple[str, ...]
    hard_notes: tuple[str, ...]


def _symptom_targets(
    rng: random.Random, profile: Profile, n: int, wobble: Sequence[float]
) -> dict[str, list[int]]:
    top = {i: highest_sum(i) for i in SYMPTOM_MEASURES}  # PHQ-9: 24, item 9 being held at 0
    if profile == Profile.NOT_ON_TRACK:
        latest = rng.choice(STORY_PHQ9_LATEST)
        rise = [(latest - STORY_PHQ9_INTAKE) * math.log(k) / math.log(max(n, 2)) for k in range(1, n + 1)]
        phq = [STORY_PHQ9_INTAKE]
        phq += [min(round(STORY_PHQ9_INTAKE + r + rng.gauss(0, 0.6)), top[PHQ9]) for r in rise[1:-1]]
        phq += [latest] if n > 1 else []
        gad = [STORY_GAD7] + [STORY_GAD7 + round(rng.gauss(0, 0.8)) for _ in range(n - 1)]
        return {PHQ9: phq, GAD7: [min(max(v, STORY_GAD7 - 2), STORY_GAD7 + 2) for v in gad]}
    calm = profile == Profile.ON_COURSE
    change = rng.uniform(*CHANGE_AT_REFERENCE[profile])
    intakes = {
        PHQ9: rng.randint(13, 19) if calm else round(rng.triangular(8, 23, 15)),
        GAD7: rng.randint(10, 15) if calm else round(rng.triangular(6, 19, 12)),
    }
    out: dict[str, list[int]] = {}
    for instrument_id, intake in intakes.items():
        intake = min(max(intake, 3), top[instrument_id])
        own_change = change + rng.gauss(0, 0.05)
        rci = _first_scale(instrument_id).reliable_change
        rci_points = int(rci.rci) if rci is not None and rci.rci is not None else 0
        if calm and n >= 6:
            # Reliably better by the latest session (NHS Talking Therapies: 6 on the PHQ-9, 4 on the
            # GAD-7, read from the definitions), so no "no reliable improvement" signal.
            needed = (rci_points + 1.5) / intake * math.log(REFERENCE_SESSION) / math.log(n)
            own_change = min(max(own_change, needed), 0.9)
        noise = 0.8 if calm else 1.4
        values = []
        for k in range(1, n + 1):
            mean = intake * (1 - own_change * math.log(k) / math.log(REFERENCE_SESSION))
            lagged = LAGGED_EFFECT[instrument_id] * wobble[k - 2] if k > 1 else 0.0
            value = intake if k == 1 else round(mean - lagged + rng.gauss(0, noise))
            values.append(min(max(value, 1), top[instrument_id]))
        if calm and n >= 6:
            values[-1] = min(values[-1], intake - rci_points - 1)
        out[instrument_id] = values
    return out


def _first_scale(instrument_id: str) -> Scale:
    return instruments()[instrument_id].scales[0]


def _wobble(rng: random.Random, n: int) -> list[float]:
    values = [rng.gauss(0, 1)]
    for _ in range(n - 1):
        values.append(WOBBLE_AR * values[-1] + rng.gauss(0, math.sqrt(1 - WOBBLE_AR**2)))
    return values


def _process_sums(
    rng: random.Random, phq: Sequence[int], wobble: Sequence[float]
) -> dict[str, dict[int, dict[str, int]]]:
    """Ingredient measures before sessions 1, 4, 7, ...: {instrument: {session: {scale: sum}}}."""
    base = {key: rng.uniform(*bounds) for key, bounds in PROCESS_BASE.items()}
    intake = max(phq[0], 1)
    out: dict[str, dict[int, dict[str, int]]] = {SCS_SF: {}, MAAS: {}, RFQ8: {}}
    for k in range(1, len(phq) + 1, INGREDIENT_EVERY):
        progress = (intake - phq[k - 1]) / intake

        def mean(key: str, k: int = k, progress: float = progress) -> float:
            return base[key] + PROCESS_GAIN[key] * progress + PROCESS_WOBBLE[key] * wobble[k - 1]

        for instrument_id in (SCS_SF, MAAS):
            scale = _first_scale(instrument_id)
            n_items = len(scale.items)
            low, high = scale.range
            value = round(min(max(mean(instrument_id) + rng.gauss(0, 0.1), low), high) * n_items)
            out[instrument_id][k] = {scale.id: value}
        certainty = min(max(round(mean("rfq8_c") * 6), 0), 18)
        uncertainty = min(max(round(mean("rfq8_u") * 6), 0), 18)
        while not reachable(RFQ8, {"certainty": certainty, "uncertainty": uncertainty}):
            certainty, uncertainty = max(certainty - 1, 0), max(uncertainty - 1, 0)
        out[RFQ8][k] = {"certainty": certainty, "uncertainty": uncertainty}
    return out


def _running_mean(values: Sequence[int], k: int) -> float:
    """Mean of the RUPTURE_WINDOW scores before index k."""
    window = values[k - RUPTURE_WINDOW : k]
    return sum(window) / len(window)


def _alliance_totals(
    rng: random.Random, profile: Profile, n: int, phq: Sequence[int], calm: bool
) -> list[int]:
    scale = _first_scale(WAI_SR)
    low, high = int(scale.range[0]), int(scale.range[1])
    if profile == Profile.NOT_ON_TRACK:
        values = [min(max(round(47 + rng.gauss(0, 1)), 45), 49) for _ in range(n)]
        if n < RUPTURE_WINDOW + REPAIR_AFTER + 1:
            raise ValueError(f"the demo client needs at least 6 attended sessions, not {n}")
        at = min(rng.choice(RUPTURE_SESSIONS), n - REPAIR_AFTER) - 1  # index from 0
        before = _running_mean(values, at)
        values[at] = math.floor(before - RUPTURE_DROP - rng.uniform(1, 3))
        values[at + 1] = round(before - 4)
        values[at + 2] = math.ceil(before) + rng.randint(0, 1)
        for k in range(at + 3, n):
            values[k] = min(values[k] + 1, high)
        return values
    level = rng.uniform(44, 54) if profile != Profile.DETERIORATING else rng.uniform(38, 46)
    intake = max(phq[0], 1)
    values = []
    for k in range(n):
        progress = (intake - phq[k]) / intake
        value = round(level + 3 * progress + rng.gauss(0, 0.8 if calm else 1.5))
        values.append(min(max(value, low), high))
    if calm:
        for k in range(RUPTURE_WINDOW, n):
            floor = math.floor(_running_mean(values, k) - CALM_DROP) + 1
            values[k] = max(values[k], floor)
    elif n >= RUPTURE_WINDOW + REPAIR_AFTER + 1 and rng.random() < P_RUPTURE_ELSEWHERE:
        at = rng.randint(RUPTURE_WINDOW, n - REPAIR_AFTER - 1)
        before = _running_mean(values, at)
        values[at] = max(low, math.floor(before - rng.uniform(6, 11)))
        values[at + REPAIR_AFTER] = min(high, max(values[at + REPAIR_AFTER], math.ceil(before)))
    return values


# --- when things are answered ---


def _local(when: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return when.astimezone(tz)


def _before_session(rng: random.Random, session: AttendedSession, first: bool, tz: ZoneInfo) -> dt.datetime:
    """The evening before (19:00-21:30) or that morning (1-2.5 hours before); the intake that morning."""
    start = _local(session.starts_at, tz)
    if first or rng.random() < 0.5:
        return start - dt.timedelta(minutes=rng.randint(60, 150))
    evening = dt.datetime.combine(start.date() - dt.timedelta(days=1), dt.time(19, 0), tzinfo=tz)
    return evening + dt.timedelta(minutes=rng.randint(0, 150))


def _shift_days(when: dt.datetime, days: int, tz: ZoneInfo) -> dt.datetime:
    """Same local clock time `days` calendar days away (as core.schedule counts them)."""
    local = _local(when, tz)
    return (local.replace(tzinfo=None) + dt.timedelta(days=days)).replace(tzinfo=tz)


def _response(
    instrument_id: str,
    number: int,
    sums: Mapping[str, int],
    rng: random.Random,
    *,
    due_at: dt.datetime,
    expires_at: dt.datetime,
    submitted_at: dt.datetime,
) -> PlannedResponse:
    first = _first_scale(instrument_id)
    return PlannedResponse(
        instrument_id=instrument_id,
        session_number=number,
        due_at=due_at,
        expires_at=expires_at,
        submitted_at=submitted_at,
        answers=answers_for(instrument_id, sums, rng),
        score=_scale_score(first, sums[first.id]),
        scale_sums=dict(sums),
    )


def plan_course(
    rng: random.Random,
    *,
    profile: Profile,
    attended: Sequence[AttendedSession],
    ended_on: dt.date | None,
    now: dt.datetime,
    time_zone: str,
    follow_up: bool = False,
    reflections: TherapistView | None = None,
) -> CoursePlan:
    """Every questionnaire one episode's client answers, and with `reflections` the therapist's view
    after each session; nothing is submitted at or after `now`."""
    tz = ZoneInfo(time_zone)
    course = CoursePlan(profile)
    n = len(attended)
    if n == 0:
        return course
    wobble = _wobble(rng, n)
    symptoms = _symptom_targets(rng, profile, n, wobble)
    process = _process_sums(rng, symptoms[PHQ9], wobble)
    alliance = _alliance_totals(rng, profile, n, symptoms[PHQ9], calm=profile == Profile.ON_COURSE)
    for k, session in enumerate(attended, start=1):
        due = _shift_days(session.starts_at, -BEFORE_SESSION_DAYS, tz)
        expires = _shift_days(session.starts_at, AFTER_SESSION_DAYS, tz)
        at = _before_session(rng, session, k == 1, tz)
        before: list[tuple[str, Mapping[str, int]]] = [
            (i, {_first_scale(i).id: symptoms[i][k - 1]}) for i in SYMPTOM_MEASURES
        ]
        before += [(i, process[i][k]) for i in INGREDIENT_MEASURES if k in process[i]]
        for instrument_id, sums in before:
            course.responses.append(
                _response(instrument_id, k, sums, rng, due_at=due, expires_at=expires, submitted_at=at)
            )
            at += dt.timedelta(minutes=rng.randint(2, 6))  # the next questionnaire, same sitting
        ends = session.starts_at + dt.timedelta(minutes=session.minutes)
        # The same evening: never the next day, so that the last session's answer stays in the episode.
        course.responses.append(
            _response(
                ALLIANCE_MEASURE,
                k,
                {_first_scale(ALLIANCE_MEASURE).id: alliance[k - 1]},
                rng,
                due_at=ends,
                expires_at=ends + dt.timedelta(days=7),
                submitted_at=ends + dt.timedelta(minutes=rng.randint(20, 180)),
            )
        )
        if reflections is not None:
            course.reflections.append(_reflection(rng, k, ends, alliance, reflections))
    if follow_up and ended_on is not None:
        due = local_at(add_months(ended_on, FOLLOW_UP_AFTER_MONTHS), LOCAL_DUE_TIME, time_zone)
        submitted = due + dt.timedelta(hours=rng.randint(2, 96))
        if submitted < now:
            for instrument_id in SYMPTOM_MEASURES:
                scale = _first_scale(instrument_id)
                last = symptoms[instrument_id][-1]
                value = min(max(last + round(rng.gauss(0.5, 1.5)), 0), highest_sum(instrument_id))
                course.responses.append(
                    _response(
                        instrument_id,
                        0,
                        {scale.id: value},
                        rng,
                        due_at=due,
                        expires_at=due + dt.timedelta(days=28),
                        submitted_at=submitted,
                    )
                )
                submitted += dt.timedelta(minutes=rng.randint(2, 6))
    if any(r.submitted_at >= now for r in course.responses):
        raise ValueError("a planned answer lies at or after now")
    return course


def _reflection(
    rng: random.Random, k: int, ends: dt.datetime, alliance: Sequence[int], view: TherapistView
) -> PlannedReflection:
    """The therapist's session rating follows the client's alliance but sees only about half of its
    ups and downs, so a gap opens when the client's view drops."""
    scale = _first_scale(ALLIANCE_MEASURE)
    low, high = scale.range
    typical = sum(alliance[:k]) / k
    seen = typical + THERAPIST_SEES * (alliance[k - 1] - typical)
    span = view.rating_max - view.rating_min
    base = view.rating_min + span * (seen - low) / (high - low) + rng.gauss(0.3, 0.4)
    ratings = {
        item: min(max(round(base + rng.choice((-1, 0, 0, 1))), view.rating_min), view.rating_max)
        for item in view.rating_items
    }
    hard = k > RUPTURE_WINDOW and _running_mean(alliance, k - 1) - alliance[k - 1] >= CALM_DROP
    chosen: tuple[str, ...] = ()
    intensity: int | None = None
    note = ""
    if hard or rng.random() < P_FEELINGS:
        pool = view.hard if hard else view.easy
        chosen = tuple(rng.sample(pool, rng.randint(1, 2)))
        intensity = rng.randint(3, 4) if hard else rng.randint(1, 3)
        if hard:
            note = rng.choice(view.hard_notes)
        elif rng.random() < P_NOTE:
            note = rng.choice(view.easy_notes)
    return PlannedReflection(
        session_number=k,
        recorded_at=ends + dt.timedelta(minutes=rng.randint(10, 120)),
        ratings=ratings,
        feelings=chosen,
        intensity=intensity,
        note=note,
    )
