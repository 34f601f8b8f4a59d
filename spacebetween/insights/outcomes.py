"""Practice outcomes for the admin: the NHS Talking Therapies outcomes of the practice's finished
episodes, in aggregate only, beside the published national figures. Four queries, whatever the number
of episodes.

Which episodes count, as in the national figures (mbc-anchors.md §5.7): episodes that have ended, with a
finished course of treatment (at least 2 attended sessions, the Fingertips glossary's definition) and
paired scores on both the PHQ-9 and the GAD-7. The first score of a measure is its first answer in the
episode, the last its last answer on or before the end date; answers after the end date are follow-ups
(the rule of `insights.series`). A pair needs two answers: a single answer is not a change. The
outcomes themselves are `core.change.talking_therapies_outcomes`, the one implementation of the
definitions. The GAD-7 stands for anxiety throughout (the national data set may use an
anxiety-disorder-specific measure instead).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q

from spacebetween.accounts.models import CLINICAL_ROLES, Role, User
from spacebetween.clients.models import Attendance, Episode
from spacebetween.core import instruments as catalogue
from spacebetween.core.change import (
    TALKING_THERAPIES_PURPOSE,
    TalkingTherapiesOutcome,
    talking_therapies_outcomes,
)
from spacebetween.core.instruments import Cutoff
from spacebetween.insights.series import is_follow_up, primary_scale
from spacebetween.measures.models import Response
from spacebetween.practice.models import Practice

ADMIN_ONLY = "Only a practice admin can see the practice outcomes."
DEPRESSION = "phq9"
ANXIETY = "gad7"
# A finished course of treatment: at least 2 attended treatment sessions (OHID Fingertips glossary,
# mbc-anchors.md §5.7 [V]); the national outcome figures count only these.
FINISHED_COURSE_SESSIONS = 2
# Statistical disclosure control: a figure based on fewer episodes is shown as "<5", because in a
# small group a rate can point to a person (a therapist's two clients, a quarter with one discharge).
SMALL_CELL = 5
SUPPRESSED = "<5"


@dataclass(frozen=True)
class Benchmark:
    """A published national figure, with where it comes from."""

    outcome: str  # a key of OUTCOMES
    year: str
    percent: float
    source: str
    url: str
    approximate: bool = False

    @property
    def outcome_label(self) -> str:
        return OUTCOMES[self.outcome][0]


# National figures for England (IAPT, now NHS Talking Therapies), one year and outcome per row, each
# from the publisher's own release of its "Psychological Therapies: Annual Report on the use of IAPT
# services" (HSCIC, then NHS Digital), with the year of the report and a stable URL of the publisher.
# No secondary source (news sites, blogs): a figure we could not trace to the publisher is left out,
# e.g. the 2023/24 reliable recovery rate, found only on a secondary site. All count finished courses
# (>= 2 treatment sessions) with paired scores; recovery among those who started as a case.
NATIONAL_BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark(
        "recovery",
        "2014/15",
        44.8,
        "HSCIC, Psychological Therapies: Annual Report on the use of IAPT services, England, 2014/15 "
        "(published 24 November 2015): England mean recovery rate, 189,152 of 421,744",
        "https://digital.nhs.uk/data-and-information/publications/statistical/"
        "psychological-therapies-annual-reports-on-the-use-of-iapt-services/annual-report-2014-15",
    ),
    Benchmark(
        "recovery",
        "2016/17",
        49.3,
        "NHS Digital, Psychological Therapies: Annual Report on the use of IAPT services, England, further "
        "analyses on 2016-17 (2017): 259,000 of 525,000 finished courses that started as a case",
        "https://digital.nhs.uk/news-and-events/latest-news/"
        "just-under-half-of-all-referrals-that-completed-psychological-therapy-in-2016-17-recovered-new-report-shows",
    ),
    Benchmark(
        "recovery",
        "2017/18",
        50.8,
        "NHS Digital, Psychological Therapies: Annual Report on the use of IAPT services, England, 2017-18 "
        "(2018)",
        "https://digital.nhs.uk/news/2018/more-than-half-of-patients-who-finished-psychological-therapy-recovered-in-2017-18",
    ),
    Benchmark(
        "reliable_improvement",
        "2017/18",
        66.4,
        "NHS Digital, Psychological Therapies: Annual Report on the use of IAPT services, England, 2017-18 "
        "(2018)",
        "https://digital.nhs.uk/news/2018/more-than-half-of-patients-who-finished-psychological-therapy-recovered-in-2017-18",
    ),
)

# The outcomes shown, in order, with what each rate is counted among (its denominator).
OUTCOMES: dict[str, tuple[str, str]] = {
    "recovery": ("Recovery", "cases at intake"),
    "reliable_improvement": ("Reliable improvement", "paired episodes"),
    "reliable_recovery": ("Reliable recovery", "cases at intake"),
    "reliable_deterioration": ("Reliable deterioration", "paired episodes"),
}


@dataclass(frozen=True)
class Rate:
    count: int
    of: int

    @property
    def suppressed(self) -> bool:
        return 0 < self.of < SMALL_CELL

    @property
    def percent(self) -> float | None:
        """None where there is nothing to count among or the group is too small to show."""
        return None if self.of == 0 or self.suppressed else 100.0 * self.count / self.of

    def __str__(self) -> str:
        if self.suppressed:
            return SUPPRESSED
        if self.of == 0:
            return "—"
        return f"{self.count} of {self.of} ({self.percent:.1f}%)"


def talking_therapies_caseness(instrument_id: str) -> Cutoff:
    """The caseness cut-off NHS Talking Therapies count with on this measure, as its definition marks it
    (purpose TALKING_THERAPIES_PURPOSE): PHQ-9 10 or more, GAD-7 8 or more. Not necessarily the cut-off
    the client page draws (the GAD-7's is 10, Spitzer et al. 2006, for probable GAD)."""
    instrument = catalogue.get(instrument_id)
    caseness = primary_scale(instrument).caseness
    cut = caseness.for_purpose(TALKING_THERAPIES_PURPOSE) if caseness is not None else None
    if cut is None or cut.operator != ">=":
        raise ValueError(f"the {instrument_id} definition gives no NHS Talking Therapies caseness (>=)")
    return cut


def caseness_rule() -> str:
    """The caseness the outcomes count, in words, from the definitions."""
    names = {DEPRESSION: "PHQ-9", ANXIETY: "GAD-7"}
    parts = [f"{names[iid]} ≥{talking_therapies_caseness(iid).cutoff:g}" for iid in (DEPRESSION, ANXIETY)]
    text = f"NHS Talking Therapies caseness, {' or '.join(parts)}"
    for iid in (DEPRESSION, ANXIETY):
        counted, charted = talking_therapies_caseness(iid), primary_scale(catalogue.get(iid)).caseness
        if charted is not None and charted is not counted:
            text += f"; the {names[iid]} line on a client’s chart is another cut-off, {charted.describe()}"
    return text


def _rate(hit: np.ndarray, among: np.ndarray) -> Rate:
    return Rate(int(np.count_nonzero(hit & among)), int(np.count_nonzero(among)))


@dataclass(frozen=True)
class OutcomeRow:
    """The outcomes of one group of paired finished episodes."""

    label: str
    paired: int
    rates: dict[str, Rate]  # key of OUTCOMES -> rate

    @property
    def paired_shown(self) -> str:
        return SUPPRESSED if 0 < self.paired < SMALL_CELL else str(self.paired)

    @property
    def cells(self) -> list[tuple[str, Rate]]:
        """(outcome name, rate) in the order of OUTCOMES, for the table."""
        return [(label, self.rates[key]) for key, (label, _) in OUTCOMES.items()]


@dataclass(frozen=True)
class Durability:
    """At follow-up (the last answer after the end date), among episodes with follow-up scores."""

    with_follow_up: int
    still_not_a_case: Rate  # among those recovered at the end
    still_improved: Rate  # among those reliably improved at the end (intake to follow-up)


@dataclass(frozen=True)
class PracticeOutcomes:
    ended: int
    finished: int  # of the ended: at least FINISHED_COURSE_SESSIONS attended sessions
    paired: int  # of the finished: first and last scores on both measures
    whole: OutcomeRow
    by_quarter: list[OutcomeRow]
    by_therapist: list[OutcomeRow]
    durability: Durability


def _row(label: str, outcome: TalkingTherapiesOutcome, members: np.ndarray) -> OutcomeRow:
    paired = outcome.paired & members
    cases = outcome.case_at_start & members
    return OutcomeRow(
        label=label,
        paired=int(np.count_nonzero(paired)),
        rates={
            "recovery": _rate(outcome.recovery, cases),
            "reliable_improvement": _rate(outcome.reliable_improvement, paired),
            "reliable_recovery": _rate(outcome.reliable_recovery, cases),
            "reliable_deterioration": _rate(outcome.reliable_deterioration, paired),
        },
    )


def therapist_letter(index: int) -> str:
    """A, B, ... Z, AA, AB ...: the anonymous name of the index-th clinician (0-based)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def quarter_of(day: dt.date | None) -> int:
    """Calendar quarters counted from year 0 (year * 4 + 0..3), so that they sort and compare."""
    assert day is not None, "only ended episodes have a quarter"
    return day.year * 4 + (day.month - 1) // 3


def quarter_label(quarter: int) -> str:
    year, q = divmod(quarter, 4)
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    return f"{months[3 * q]}–{months[3 * q + 2]} {year}"


def _score(scores: dict[str, dict[str, float]], scale_id: str) -> float | None:
    value = (scores.get(scale_id) or {}).get("score")
    return None if value is None else float(value)


def practice_outcomes(user: User) -> PracticeOutcomes:
    """The outcomes of the admin's practice, in aggregate; four queries whatever the episode count."""
    if user.role != Role.ADMIN:
        raise PermissionDenied(ADMIN_ONLY)
    practice: Practice = user.practice
    episodes = list(
        Episode.objects.filter(client__practice_id=practice.pk, ended_on__isnull=False)
        .annotate(attended=Count("sessions", filter=Q(sessions__attendance=Attendance.ATTENDED)))
        .only("pk", "therapist_id", "ended_on")
        .order_by("pk")
    )
    clinicians = list(
        User.objects.filter(practice_id=practice.pk, role__in=CLINICAL_ROLES)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    finished = [e for e in episodes if e.attended >= FINISHED_COURSE_SESSIONS]  # type: ignore[attr-defined]
    index = {e.pk: i for i, e in enumerate(finished)}
    scale = {iid: primary_scale(catalogue.get(iid)).id for iid in (DEPRESSION, ANXIETY)}

    # (measure, "pre" | "post" | "follow_up") -> one column over the finished episodes, NaN = none
    columns = {
        (iid, when): np.full(len(finished), np.nan) for iid in scale for when in ("pre", "post", "follow_up")
    }
    answers = {iid: np.zeros(len(finished), dtype=int) for iid in scale}
    for episode_id, instrument_id, scores, submitted_at in (
        # By join rather than a list of ids, which would outgrow SQLite's limit on parameters.
        Response.objects.filter(
            assignment__episode__client__practice_id=practice.pk,
            assignment__episode__ended_on__isnull=False,
            instrument_id__in=list(scale),
        )
        .order_by("submitted_at", "pk")
        .values_list("assignment__episode_id", "instrument_id", "scores", "submitted_at")
    ):
        value = _score(scores, scale[instrument_id])
        if value is None or episode_id not in index:  # unscorable, or not a finished course
            continue
        i = index[episode_id]
        if is_follow_up(finished[i], submitted_at, practice.time_zone):
            columns[(instrument_id, "follow_up")][i] = value  # the latest follow-up stands
            continue
        if answers[instrument_id][i] == 0:
            columns[(instrument_id, "pre")][i] = value
        columns[(instrument_id, "post")][i] = value
        answers[instrument_id][i] += 1
    for iid in scale:  # a single answer is no pair
        columns[(iid, "post")][answers[iid] < 2] = np.nan

    def outcome(when: str) -> TalkingTherapiesOutcome:
        return talking_therapies_outcomes(
            columns[(DEPRESSION, "pre")],
            columns[(DEPRESSION, when)],
            columns[(ANXIETY, "pre")],
            columns[(ANXIETY, when)],
            depression_caseness=float(talking_therapies_caseness(DEPRESSION).cutoff),
            anxiety_caseness=float(talking_therapies_caseness(ANXIETY).cutoff),
        )

    at_end, at_follow_up = outcome("post"), outcome("follow_up")
    everyone = np.ones(len(finished), dtype=bool)

    quarters = np.array([quarter_of(e.ended_on) for e in finished], dtype=int)
    by_quarter = [_row(quarter_label(q), at_end, quarters == q) for q in sorted(set(quarters.tolist()))]
    therapists = np.array([e.therapist_id for e in finished], dtype=int)
    # Letters by the clinicians' order of creation: stable, and never their names.
    order = clinicians + sorted(set(therapists.tolist()) - set(clinicians))
    by_therapist = [
        _row(f"Therapist {therapist_letter(n)}", at_end, therapists == pk)
        for n, pk in enumerate(order)
        if pk in therapists
    ]
    followed = at_end.paired & at_follow_up.paired
    durability = Durability(
        with_follow_up=int(np.count_nonzero(followed)),
        still_not_a_case=_rate(~at_follow_up.case_at_end, at_end.recovery & followed),
        still_improved=_rate(at_follow_up.reliable_improvement, at_end.reliable_improvement & followed),
    )
    return PracticeOutcomes(
        ended=len(episodes),
        finished=len(finished),
        paired=int(np.count_nonzero(at_end.paired)),
        whole=_row("Whole practice", at_end, everyone),
        by_quarter=by_quarter,
        by_therapist=by_therapist,
        durability=durability,
    )


def latest_benchmarks() -> dict[str, Benchmark]:
    """The most recent national figure per outcome (the table on the page lists them all)."""
    latest: dict[str, Benchmark] = {}
    for b in NATIONAL_BENCHMARKS:
        if b.outcome not in latest or b.year > latest[b.outcome].year:
            latest[b.outcome] = b
    return latest


def benchmark_rows(outcomes: PracticeOutcomes) -> Sequence[tuple[str, float | None, float | None]]:
    """(outcome, practice %, latest national %) for the chart; None where suppressed or not published."""
    latest = latest_benchmarks()
    return [
        (
            label,
            outcomes.whole.rates[key].percent,
            latest[key].percent if key in latest else None,
        )
        for key, (label, _) in OUTCOMES.items()
    ]
