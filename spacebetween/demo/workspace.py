"""The demo therapist's clinical work between and after sessions, on a few of her clients: exercises
set and done, a psychoeducation page shared and read, signed progress notes, a case formulation with
goals rated at sessions, and on the demo client session transcripts (uploaded as a video platform
exports them, speakers mapped, coded), a rupture note and two transference themes.

Written through each package's own services, as a therapist and her client would write them from the
pages (so the texts are encrypted, every write has its audit row, and the same validation applies),
backdated with `now` to when they were done. Which clients, and the small choices within, are drawn
from a generator seeded with the demo's seed, so the same seed and day give the same workspace.

Every text is short, plainly fictional and marked as demo material. The formulation's fields follow
docs/formulation.md (the CCRT of Luborsky & Crits-Christoph 1990), the goals the goal-based outcomes of
Law & Jacob (2015), the rupture note Safran & Muran's (2000) withdrawal and confrontation ruptures.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from spacebetween.clients.models import Attendance, Client, Episode, Session, SessionFormat
from spacebetween.core.schedule import Reason
from spacebetween.demo.answers import ALLIANCE_MEASURE, RUPTURE_WINDOW
from spacebetween.exercises import services as exercises
from spacebetween.exercises.models import Frequency
from spacebetween.formulation import services as formulation
from spacebetween.measures.models import Response
from spacebetween.notes import services as notes
from spacebetween.notes.defaults import DEFAULT_HEADINGS
from spacebetween.notes.models import NoteKind
from spacebetween.relationship import selectors as relationship_selectors
from spacebetween.relationship import services as relationship
from spacebetween.relationship.models import Repaired, RuptureKind, ThemeKind
from spacebetween.transcripts import services as transcripts

# The demo client and this many of the demo therapist's other open individual episodes.
OTHER_CLIENTS = 2
MIN_ATTENDED = 5  # enough sessions behind them for notes, a formulation and goal ratings
NOTED_SESSIONS = 3  # the latest attended sessions that get a signed progress note
RATED_SESSIONS = 4  # the latest attended sessions at which the goals are rated
EXERCISE_SET_AT = 3  # set at the end of the third-latest attended session
EXERCISE_OPEN_DAYS = 14  # open until two weeks after the demo's day
AFTER_SESSION = dt.timedelta(minutes=30)  # notes and ratings are written just after the session

DEMO_MARK = "(Demo: fictional.)"
# Short fictional sessions of the demo client, written for the demo (not from any data set): the
# latest attended sessions get one each, oldest first, so that her episode's transcript page has a
# trajectory to show beside her outcome and alliance charts.
TRANSCRIPTS: tuple[tuple[tuple[str, str], ...], ...] = (
    (
        ("Therapist", "How have things been since we last met?"),
        ("Client", "Not great. I stayed in most of the week and I didn't answer anyone's messages."),
        ("Therapist", "You pulled away from people again."),
        ("Client", "I just feel so tired and low, and seeing people feels like too much."),
        ("Therapist", "What happens for you when a message comes in and you leave it?"),
        ("Client", "I feel guilty, and then I feel worse, so I leave the next one too."),
        ("Therapist", "So the guilt keeps you away from the very people who might help."),
        ("Client", "I suppose so. I don't really see the point of trying right now."),
        ("Therapist", "It might help to notice one message this week and answer it, even briefly."),
        ("Client", "Maybe. I don't know if I can."),
    ),
    (
        ("Therapist", "Last time you weren't sure you could answer a message. How did it go?"),
        ("Client", "I answered my sister. It was short, but I did it, and she called me back."),
        ("Therapist", "You took a step, and it was met."),
        ("Client", "Yes. I felt a bit lighter afterwards, honestly."),
        ("Therapist", "What made it possible this time?"),
        ("Client", "I reminded myself she has always been there for me. I want to keep in touch more."),
        ("Therapist", "Keeping in touch matters to you, even when you feel low."),
        ("Client", "It does. I think I could try to see her this weekend."),
        ("Therapist", "How would you like to plan that, so it feels manageable?"),
        ("Client", "A short walk, maybe. Not a whole day."),
    ),
    (
        ("Therapist", "I noticed you seemed quieter with me last time, after I suggested the walk."),
        ("Client", "I felt a bit pushed, to be honest. Like I was failing the homework."),
        ("Therapist", "Thank you for telling me. It sounds like my suggestion felt like pressure from me."),
        ("Client", "A little. But I did go for the walk, and I'm glad I went."),
        ("Therapist", "You went, and you are glad, and you also felt pushed here with me."),
        ("Client", "Both, yes. I want to keep going, but at my own pace."),
        ("Therapist", "Going at your own pace is important, and we can set the steps together."),
        ("Client", "That would help. I think I can manage one thing each week."),
        ("Therapist", "What would be the one thing for this week?"),
        ("Client", "Calling my friend from work. I've been meaning to for months."),
    ),
)
EXERCISES = ("thought-record", "emotion-check-in", "mindful-breathing")
PAGE = "therapy"
# The client's entries: (exercise, days after it was set, private, answers).
ENTRIES: tuple[tuple[str, int, bool, dict[str, object]], ...] = (
    ("emotion-check-in", 1, False, {"feeling": "tense", "intensity": "70", "what_happened": "A busy day."}),
    (
        "thought-record",
        2,
        False,
        {
            "situation": "A friend did not answer my message.",
            "feeling": "hurt",
            "intensity": "65",
            "thought": "They are tired of me.",
            "evidence_against": "They replied the next morning.",
            "balanced_thought": "They may just have been busy.",
            "intensity_after": "40",
        },
    ),
    ("mindful-breathing", 3, False, {"minutes": "10", "note": "Hard to settle at first."}),
    ("emotion-check-in", 5, True, {"feeling": "lonely", "intensity": "55", "body": "Heavy shoulders."}),
    ("mindful-breathing", 6, True, {"minutes": "5"}),
)
PROGRESS_TEXTS = (
    ("Talked about the week at work and a tense phone call.", "Reflection; linking feelings.", "Continue."),
    ("Looked at what happens when plans change at short notice.", "Exploring the pattern.", "Review."),
    ("Went over the exercises set last time.", "Reviewing the homework together.", "Keep practising."),
)
FORMULATIONS = (
    {
        "presenting_problems": "Low mood and worry about work, for about a year.",
        "ccrt_wish": "To be looked after without having to ask.",
        "ccrt_response_of_other": "Others are busy and turn away.",
        "ccrt_response_of_self": "Withdraws and copes alone; then feels low.",
        "strengths": "Curious about herself; keeps coming.",
    },
    {
        "presenting_problems": "Anxiety in social situations and poor sleep.",
        "ccrt_wish": "To be accepted as they are.",
        "ccrt_response_of_other": "Others judge and criticise.",
        "ccrt_response_of_self": "Stays quiet and agrees, then resents it.",
        "strengths": "Warm with friends; good sense of humour.",
    },
)
GOALS = (
    ("To ask a friend for help once a week.", "To sleep through most nights."),
    ("To say what I think at team meetings.", "To feel less on edge at home."),
)
RUPTURE = {
    "what_happened": "Went quiet after I moved the next session; said it did not matter.",
    "therapist_part": "I announced the change briskly, at the end of the session.",
    "repair": "Named the change together the next week; she said it felt like being dropped.",
}
THEMES = (
    (ThemeKind.TRANSFERENCE, "expecting to be let down"),
    (ThemeKind.COUNTER_TRANSFERENCE, "wish to rescue"),
)


@dataclass(frozen=True)
class Workspace:
    """What the demo wrote: counts, for the command's summary and the tests."""

    clients: int
    exercises: int
    entries: int
    pages: int
    progress_notes: int
    goals: int
    goal_ratings: int
    transcripts: int
    rupture_notes: int
    themes: int


def _attended(episode: Episode, before: dt.datetime) -> list[Session]:
    held = episode.sessions.filter(attendance=Attendance.ATTENDED, starts_at__lt=before)
    return list(held.order_by("starts_at", "pk"))


def _after(session: Session) -> dt.datetime:
    return session.starts_at + dt.timedelta(minutes=session.duration_minutes) + AFTER_SESSION


def _rupture_session(episode: Episode, attended: list[Session]) -> Session:
    """The session after which the client's alliance (WAI-SR total) fell furthest below the mean of her
    previous scores: the rupture the demo's story plants (demo.answers) and her chart shows."""
    rated = Response.objects.filter(assignment__episode=episode, instrument_id=ALLIANCE_MEASURE)
    rated = rated.filter(assignment__planned__reason=Reason.AFTER_SESSION).select_related(
        "assignment__planned"
    )
    pairs = [
        (int(r.assignment.planned.occasion), sum(r.answers.values())) for r in rated.order_by("submitted_at")
    ]
    if len(pairs) <= RUPTURE_WINDOW:
        return attended[-1]
    totals = [total for _, total in pairs]

    def drop(k: int) -> float:
        return sum(totals[k - RUPTURE_WINDOW : k]) / RUPTURE_WINDOW - totals[k]

    at = max(range(RUPTURE_WINDOW, len(pairs)), key=drop)
    return next(s for s in attended if s.pk == pairs[at][0])


TRANSCRIPT_ROLES = {0: "therapist", 1: "client"}  # the speakers, in order of first appearance


def _vtt(turns: tuple[tuple[str, str], ...]) -> bytes:
    """A transcript as Microsoft Teams and Zoom export it: WebVTT cues with voice tags, four seconds
    each, and the demo's mark as a NOTE block (no one's turn)."""
    cues = [f"WEBVTT\n\nNOTE {DEMO_MARK}"]
    for i, (speaker, text) in enumerate(turns):
        start, end = dt.timedelta(seconds=4 * i), dt.timedelta(seconds=4 * i + 3)
        cues.append(f"{i + 1}\n0{start}.000 --> 0{end}.000\n<v {speaker}>{text}</v>")
    return ("\n\n".join(cues) + "\n").encode()


def workspace_written(client_email: str) -> bool:
    """Whether `write_workspace` finished for the demo client with this portal login: its last write,
    the themes on her session, is there (generator.demo_state reads a complete demo from it)."""
    client = Client.objects.filter(portal_user__email=client_email).first()
    return client is not None and relationship_selectors.themes_tagged_count(client.pk) >= len(THEMES)


def write_workspace(*, seed: int, demo_client: Client, now: dt.datetime) -> Workspace:
    """Write the workspace for the demo client (linked to her portal login) and OTHER_CLIENTS of her
    therapist's other open individual episodes (chosen with the seed). `now` is the demo's day;
    everything is dated before it, and the exercises stay open for EXERCISE_OPEN_DAYS after it."""
    story = Episode.objects.select_related("therapist", "client__portal_user").get(
        client=demo_client, ended_on__isnull=True
    )
    therapist, client_user = story.therapist, story.client.portal_user
    assert client_user is not None, "link the demo client's portal login first"
    rng = random.Random(f"demo-workspace-{seed}")  # noqa: S311 - reproducible synthetic data
    open_episodes = Episode.objects.filter(therapist=therapist, ended_on__isnull=True).order_by("pk")
    candidates = [
        e
        for e in open_episodes.exclude(client=demo_client).select_related("client")
        if not e.sessions.exclude(format=SessionFormat.INDIVIDUAL).exists()
        and len(_attended(e, now)) >= MIN_ATTENDED
    ]
    chosen = [
        story,
        *rng.sample(candidates, min(OTHER_CLIENTS, len(candidates))),
    ]
    counts = dict.fromkeys(("exercises", "entries", "pages", "notes", "goals", "ratings"), 0)
    today = now.date()
    for index, episode in enumerate(chosen):
        attended = _attended(episode, now)
        with_portal = episode.client_id == demo_client.pk
        # Exercises and a page, set at the end of a recent session; the client's portal entries after.
        set_at = _after(attended[-EXERCISE_SET_AT]).astimezone(now.tzinfo)
        ends_on = today + dt.timedelta(days=EXERCISE_OPEN_DAYS)
        names = EXERCISES if with_portal else tuple(rng.sample(EXERCISES, 2))
        set_ = {
            name: exercises.exercise_assign(
                actor=therapist,
                episode=episode,
                exercise=name,
                frequency=Frequency.DAILY,
                starts_on=set_at.date(),
                ends_on=ends_on,
                now=set_at,
            )
            for name in names
        }
        counts["exercises"] += len(set_)
        share = exercises.page_share(actor=therapist, episode=episode, page=PAGE, now=set_at)
        counts["pages"] += 1
        if with_portal:
            evening = dt.timedelta(hours=rng.randint(19, 21))
            day = set_at.replace(hour=0, minute=0)
            exercises.page_read(
                actor=client_user, share=share, now=min(day + dt.timedelta(days=1) + evening, now)
            )
            for name, days, private, answers in ENTRIES:
                at = day + dt.timedelta(days=days) + evening
                if at < now:
                    exercises.entry_record(
                        actor=client_user, assignment=set_[name], answers=answers, private=private, now=at
                    )
                    counts["entries"] += 1
        # Signed progress notes on the latest sessions, in the practice's default headings.
        for session, texts in zip(
            attended[-NOTED_SESSIONS:], rng.sample(PROGRESS_TEXTS, NOTED_SESSIONS), strict=True
        ):
            headings = DEFAULT_HEADINGS[NoteKind.PROGRESS]
            body = (
                "\n\n".join(f"{h}:\n{t}" for h, t in zip(headings, texts, strict=True)) + f"\n\n{DEMO_MARK}"
            )
            notes.note_save(
                actor=therapist,
                session=session,
                kind=NoteKind.PROGRESS,
                body=body,
                sign=True,
                now=_after(session),
            )
            counts["notes"] += 1
        # The formulation after the second session, with two goals rated at the latest sessions.
        fields = {k: f"{v} {DEMO_MARK}" for k, v in FORMULATIONS[index % len(FORMULATIONS)].items()}
        formulation.formulation_revise(
            actor=therapist, episode=episode, fields=fields, now=_after(attended[1])
        )
        for text in GOALS[index % len(GOALS)]:
            goal = formulation.goal_add(actor=therapist, episode=episode, text=text, now=_after(attended[1]))
            counts["goals"] += 1
            score = rng.randint(1, 4)
            for session in attended[-RATED_SESSIONS:]:
                formulation.goal_rate(
                    actor=therapist, goal=goal, session=session, score=score, now=_after(session)
                )
                counts["ratings"] += 1
                score = min(10, score + rng.randint(0, 2))
    # On the demo client: her latest sessions transcribed, uploaded and coded just after each.
    episode = chosen[0]
    attended = _attended(episode, now)
    for session, turns in zip(attended[-len(TRANSCRIPTS) :], TRANSCRIPTS, strict=True):
        transcripts.transcript_upload(
            actor=therapist, session=session, data=_vtt(turns), filename="session.vtt", now=_after(session)
        )
        transcripts.transcript_code(
            actor=therapist, session=session, roles=TRANSCRIPT_ROLES, now=_after(session)
        )
    # And a rupture note and two themes at the session her alliance fell.
    ruptured = _rupture_session(episode, _attended(episode, now))
    relationship.rupture_note_save(
        actor=therapist,
        session=ruptured,
        kind=RuptureKind.WITHDRAWAL,
        repaired=Repaired.YES,
        now=_after(ruptured),
        **{k: f"{v} {DEMO_MARK}" for k, v in RUPTURE.items()},
    )
    for kind, label in THEMES:
        relationship.theme_tag(
            actor=therapist, session=ruptured, kind=kind, label=label, now=_after(ruptured)
        )
    return Workspace(
        clients=len(chosen),
        exercises=counts["exercises"],
        entries=counts["entries"],
        pages=counts["pages"],
        progress_notes=counts["notes"],
        goals=counts["goals"],
        goal_ratings=counts["ratings"],
        transcripts=len(TRANSCRIPTS),
        rupture_notes=1,
        themes=len(THEMES),
    )
