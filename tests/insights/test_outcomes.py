"""The practice outcomes page: NHS Talking Therapies outcomes of finished episodes, by quarter and by
anonymised therapist, follow-up durability and the national figures with their sources; admin only,
aggregates only, small cells suppressed, a fixed number of queries.

The episodes below are built through the real services (sessions, questionnaires, answers with
backdated times, then the end of the episode); their expected outcomes are worked out by hand from the
definitions (case: PHQ-9 >= 10 or GAD-7 >= 8; reliable change: 6 / 4 points)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import replace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from spacebetween.accounts.models import User
from spacebetween.answering import services as answering
from spacebetween.audit.models import AuditEvent
from spacebetween.clients import services as clinical
from spacebetween.clients.models import Attendance, Episode
from spacebetween.core import change
from spacebetween.core import instruments as catalogue
from spacebetween.insights import analysis, charts, outcomes, presenters
from spacebetween.insights.models import InsightSettings
from spacebetween.insights.outcomes import Rate
from spacebetween.insights.series import EpisodeScores, ScorePoint
from spacebetween.practice.models import Practice
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

URL = "/practice/outcomes/"


def phq9(total: int) -> dict[str, int | None]:
    """PHQ-9 answers adding up to `total` (items 1-8, item 9 kept at 0 so no risk flag is raised)."""
    assert 0 <= total <= 24
    answers: dict[str, int | None] = {f"phq9_{i}": min(3, max(0, total - 3 * (i - 1))) for i in range(1, 9)}
    return answers | {"phq9_9": 0}


def gad7(total: int) -> dict[str, int | None]:
    assert 0 <= total <= 21
    return {f"gad7_{i}": min(3, max(0, total - 3 * (i - 1))) for i in range(1, 8)}


def answer(therapist: User, episode: Episode, instrument_id: str, total: int, at: dt.datetime) -> None:
    assignment = answering.assignment_create(
        actor=therapist, episode=episode, instrument_id=instrument_id, due_at=at, now=at
    )
    answers = phq9(total) if instrument_id == "phq9" else gad7(total)
    answering.response_submit(
        assignment=assignment, answers=answers, via="staff", actor=therapist, now=at + dt.timedelta(hours=1)
    )


def episode_with_scores(
    therapist: User,
    name: str,
    *,
    phq: Sequence[int],
    gad: Sequence[int],
    ended_on: dt.date | None,
    attended: int = 3,
    follow_up: tuple[int, int] | None = None,
) -> Episode:
    """An episode with `attended` weekly sessions, PHQ-9 and GAD-7 answered before the first ones,
    ended on `ended_on` (None: still open), and a follow-up a month after the end."""
    start = (ended_on or dt.date(2026, 12, 1)) - dt.timedelta(days=70)
    client = clinical.client_create(actor=therapist, given_name=name, family_name="Testperson")
    episode = clinical.episode_open(
        actor=therapist, client=client, referral_reason="Low mood", started_on=start
    )
    first = dt.datetime.combine(start, dt.time(10), tzinfo=dt.UTC) + dt.timedelta(days=7)
    for week in range(max(attended, 1)):
        clinical.session_create(
            actor=therapist,
            episode=episode,
            starts_at=first + dt.timedelta(weeks=week),
            attendance=Attendance.ATTENDED if week < attended else Attendance.CANCELLED,
        )
    for scores, instrument_id in ((phq, "phq9"), (gad, "gad7")):
        for week, total in enumerate(scores):
            answer(therapist, episode, instrument_id, total, first + dt.timedelta(weeks=week, days=-1))
    if follow_up is not None:
        assert ended_on is not None
        later = dt.datetime.combine(ended_on + dt.timedelta(days=30), dt.time(9), tzinfo=dt.UTC)
        answer(therapist, episode, "phq9", follow_up[0], later)
        answer(therapist, episode, "gad7", follow_up[1], later)
    if ended_on is not None:
        clinical.episode_close(actor=therapist, episode=episode, ended_on=ended_on, end_reason="completed")
    return episode


SEPTEMBER = dt.date(2026, 9, 20)
OCTOBER = dt.date(2026, 10, 15)


@pytest.fixture
def caseload(alice: User, bob: User) -> None:
    """Alice: five counted episodes ending in September, three that do not count. Bob: one in October.

    E1 PHQ 15→5, GAD 12→4: case → not a case, drops 10 and 8: recovery, reliable improvement.
    E2 PHQ 12→10, GAD 9→8: still a case, drops 2 and 1: nothing.
    E3 PHQ 6→14, GAD 5→5: no case at intake, rise of 8: reliable deterioration.
    E4 PHQ 20→8, GAD 15→12: still a case (GAD-7 12), drop 12: reliable improvement.
    E5 PHQ 11→3, GAD 7→9: a case at the end by the GAD-7 (rise 2, not reliable), PHQ drop 8: improvement.
    E6 (Bob) PHQ 14→4, GAD 10→3: recovery, reliable improvement.
    Follow-ups a month later: E1 PHQ 11, GAD 5 (a case again; GAD-7 still 7 below intake: improved),
    E4 PHQ 18, GAD 14 (improvement gone), E6 PHQ 4, GAD 3 (still well).
    """
    episode_with_scores(alice, "Eone", phq=[15, 9, 5], gad=[12, 6, 4], ended_on=SEPTEMBER, follow_up=(11, 5))
    episode_with_scores(alice, "Etwo", phq=[12, 11, 10], gad=[9, 9, 8], ended_on=SEPTEMBER)
    episode_with_scores(alice, "Ethree", phq=[6, 10, 14], gad=[5, 5, 5], ended_on=SEPTEMBER)
    episode_with_scores(alice, "Efour", phq=[20, 8], gad=[15, 12], ended_on=SEPTEMBER, follow_up=(18, 14))
    episode_with_scores(alice, "Efive", phq=[11, 3], gad=[7, 9], ended_on=SEPTEMBER)
    episode_with_scores(bob, "Esix", phq=[14, 4], gad=[10, 3], ended_on=OCTOBER, follow_up=(4, 3))
    # Not counted: one attended session (no finished course), a single PHQ-9 answer (no pair), still open.
    episode_with_scores(alice, "Eseven", phq=[15, 5], gad=[12, 4], ended_on=SEPTEMBER, attended=1)
    episode_with_scores(alice, "Eeight", phq=[15], gad=[12, 4], ended_on=SEPTEMBER)
    episode_with_scores(alice, "Enine", phq=[15, 5], gad=[12, 4], ended_on=None)


def rates(row: outcomes.OutcomeRow) -> dict[str, tuple[int, int]]:
    return {key: (rate.count, rate.of) for key, rate in row.rates.items()}


def test_whole_practice_outcomes(admin: User, caseload: None) -> None:
    result = outcomes.practice_outcomes(admin)
    assert (result.ended, result.finished, result.paired) == (8, 7, 6)
    assert rates(result.whole) == {
        "recovery": (2, 5),  # E1, E6 of the cases E1, E2, E4, E5, E6
        "reliable_improvement": (4, 6),  # E1, E4, E5, E6
        "reliable_recovery": (2, 5),
        "reliable_deterioration": (1, 6),  # E3
    }
    assert str(result.whole.rates["recovery"]) == "2 of 5 (40.0%)"


def test_by_quarter_of_the_end_date(admin: User, caseload: None) -> None:
    result = outcomes.practice_outcomes(admin)
    assert [(row.label, row.paired) for row in result.by_quarter] == [
        ("Jul–Sep 2026", 5),
        ("Oct–Dec 2026", 1),
    ]
    assert rates(result.by_quarter[0])["reliable_improvement"] == (3, 5)
    assert [str(rate) for _, rate in result.by_quarter[1].cells] == ["<5"] * 4


def test_by_therapist_anonymised_in_the_order_of_their_accounts(
    admin: User, sam: User, alice: User, bob: User, caseload: None
) -> None:
    result = outcomes.practice_outcomes(admin)
    order = sorted([sam, alice, bob], key=lambda u: u.pk)  # clinicians, in the order they were created
    letters = {u.pk: "ABC"[order.index(u)] for u in order}
    # Only therapists with counted episodes get a row (Sam has none), in the same order.
    assert [row.label for row in result.by_therapist] == [
        f"Therapist {letters[u.pk]}" for u in order if u in (alice, bob)
    ]
    by_label = {row.label: row for row in result.by_therapist}
    alices = by_label[f"Therapist {letters[alice.pk]}"]
    assert rates(alices) == {
        "recovery": (1, 4),
        "reliable_improvement": (3, 5),
        "reliable_recovery": (1, 4),
        "reliable_deterioration": (1, 5),
    }
    # Four cases at intake is too few to show; five paired episodes are enough.
    assert [str(rate) for _, rate in alices.cells] == ["<5", "3 of 5 (60.0%)", "<5", "1 of 5 (20.0%)"]
    bobs = by_label[f"Therapist {letters[bob.pk]}"]
    assert bobs.paired_shown == "<5"


def test_follow_up_durability(admin: User, caseload: None) -> None:
    durability = outcomes.practice_outcomes(admin).durability
    assert durability.with_follow_up == 3  # E1, E4, E6
    assert (durability.still_not_a_case.count, durability.still_not_a_case.of) == (1, 2)  # E6 of E1, E6
    assert (durability.still_improved.count, durability.still_improved.of) == (2, 3)  # E1, E6 of E1, E4, E6


def test_the_page_shows_figures_benchmarks_and_no_names(admin: User, caseload: None) -> None:
    response = signed_in(admin).get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "2 of 5 (40.0%)" in body and "4 of 6 (66.7%)" in body
    assert "&lt;5" in body and "small group a rate can point to a person" in body
    for benchmark in outcomes.NATIONAL_BENCHMARKS:
        assert benchmark.year in body and charts.percent(benchmark.percent) in body and benchmark.url in body
    assert "HSCIC" in body and "NHS Digital" in body
    assert "Nursing in Practice" not in body and "psyreflect" not in body  # no secondary sources
    assert "at least 2 attended sessions" in body and "finished courses of treatment" in body
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in body and 'role="img"' in body
    assert " style=" not in body  # the CSP forbids inline styles
    for secret in ("Alice", "Bob", "Sam", "Testperson", "Eone", "Esix", "Low mood"):
        assert secret not in body


def test_every_national_figure_comes_from_the_publisher_one_year_a_row() -> None:
    publishers = ("https://digital.nhs.uk/", "https://www.england.nhs.uk/", "https://doi.org/")
    seen = set()
    for b in outcomes.NATIONAL_BENCHMARKS:
        assert b.url.startswith(publishers), b.url
        assert ("HSCIC" in b.source or "NHS" in b.source) and "Annual Report" in b.source
        assert re.fullmatch(r"20\d\d/\d\d", b.year) and b.year[:4] in b.source.replace("-", "/")
        assert not b.approximate
        assert (b.outcome, b.year) not in seen  # one year per row
        seen.add((b.outcome, b.year))
    latest = outcomes.latest_benchmarks()
    assert (latest["recovery"].year, latest["recovery"].percent) == ("2017/18", 50.8)
    assert "reliable_recovery" not in latest  # no figure traced to the publisher: none shown


def test_the_outcomes_count_the_caseness_the_definitions_mark_for_talking_therapies(
    admin: User, caseload: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One definition per measure and purpose: the GAD-7 file's NHS Talking Therapies cut-off (8), not
    # its screening one (10) and not a number kept here. Moved to 10 in the definition, E5 (GAD-7 9 at
    # the end, PHQ-9 3) is no longer a case at the end, so it counts as recovered.
    assert outcomes.talking_therapies_caseness("gad7").cutoff == 8
    assert outcomes.talking_therapies_caseness("phq9").cutoff == 10
    original = catalogue.get
    gad = original("gad7")
    scale = gad.scales[0]
    assert scale.caseness is not None
    moved = replace(scale.caseness.alternatives[0], cutoff=10)
    changed = replace(gad, scales=(replace(scale, caseness=replace(scale.caseness, alternatives=(moved,))),))
    monkeypatch.setattr(catalogue, "get", lambda iid, *a, **k: changed if iid == "gad7" else original(iid))
    assert rates(outcomes.practice_outcomes(admin).whole)["recovery"] == (3, 5)


def test_the_change_module_defaults_agree_with_the_definitions() -> None:
    assert outcomes.talking_therapies_caseness("phq9").cutoff == change.PHQ9_CASENESS
    assert outcomes.talking_therapies_caseness("gad7").cutoff == change.GAD7_CASENESS


def test_the_page_says_which_caseness_it_counts(admin: User) -> None:
    body = signed_in(admin).get(URL).content.decode()
    assert "A case: NHS Talking Therapies caseness, PHQ-9 ≥10 or GAD-7 ≥8" in body
    # and that the client chart's GAD-7 line is another cut-off
    assert "probable generalized anxiety disorder, ≥10 (Spitzer et al. 2006)" in body


def test_the_client_chart_names_its_cut_off_and_source() -> None:
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    scores = EpisodeScores(
        episode=Episode(pk=1), series={"gad7": [ScorePoint(1, 12.0, when), ScorePoint(2, 9.0, when)]}
    )
    insight = analysis.analyse_episode(scores, catalogue.registry(), settings=InsightSettings(), fits={})
    view = presenters._outcome_view(insight.outcomes[0], [1, 2])
    assert "Dashed line: probable generalized anxiety disorder, ≥10 (Spitzer et al. 2006)." in view.rc_note


def test_the_page_with_no_finished_episodes(admin: User) -> None:
    body = signed_in(admin).get(URL).content.decode()
    assert "No finished episodes yet." in body
    assert "0 episodes ended" in body


def test_the_admin_navigation_links_to_it(admin: User) -> None:
    body = signed_in(admin).get("/practice/").content.decode()
    assert f'href="{URL}"' in body


@pytest.mark.parametrize("who", ["alice", "sam", "carol_user"])
def test_only_the_admin_may_open_it(who: str, request: pytest.FixtureRequest) -> None:
    user = request.getfixturevalue(who)
    assert signed_in(user).get(URL).status_code == 403


def test_it_only_reads(admin: User) -> None:
    assert signed_in(admin).post(URL).status_code == 405


def test_signed_out_is_sent_to_sign_in(client: object, practice: object) -> None:
    from django.test import Client as HttpClient

    response = HttpClient().get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_another_practice_sees_none_of_ours(other_practice: Practice, caseload: None) -> None:
    from spacebetween.accounts.models import Role
    from spacebetween.accounts.services import user_create

    other_admin = user_create(
        practice=other_practice, email="hq@example.org", full_name="Hq", role=Role.ADMIN, password=None
    )
    result = outcomes.practice_outcomes(other_admin)
    assert (result.ended, result.finished, result.paired) == (0, 0, 0)
    assert result.by_therapist == [] and result.by_quarter == []


def test_the_read_is_audited_for_operations(admin: User) -> None:
    signed_in(admin).get(URL)
    event = AuditEvent.objects.get(action="R", entity_type="PracticeOutcomes")
    assert (event.actor_id, event.purpose) == (admin.pk, "HOPERAT")


def test_the_query_count_does_not_grow_with_the_episodes(admin: User, alice: User, bob: User) -> None:
    def count_queries() -> int:
        fresh = User.objects.select_related("practice").get(pk=admin.pk)
        with CaptureQueriesContext(connection) as queries:
            outcomes.practice_outcomes(fresh)
        return len(queries)

    episode_with_scores(alice, "Qone", phq=[15, 5], gad=[12, 4], ended_on=SEPTEMBER, follow_up=(5, 4))
    few = count_queries()
    for n, therapist in enumerate([alice, bob, alice, bob]):
        episode_with_scores(
            therapist, f"Qmore{n}", phq=[15, 5], gad=[12, 4], ended_on=OCTOBER, follow_up=(5, 4)
        )
    assert count_queries() == few


def test_therapist_letters_go_on_after_z() -> None:
    assert [outcomes.therapist_letter(i) for i in (0, 1, 25, 26, 27, 51, 52)] == [
        "A",
        "B",
        "Z",
        "AA",
        "AB",
        "AZ",
        "BA",
    ]


@pytest.mark.parametrize(
    ("rate", "shown", "percent"),
    [(Rate(2, 5), "2 of 5 (40.0%)", 40.0), (Rate(1, 4), "<5", None), (Rate(0, 0), "—", None)],
)
def test_a_rate_is_suppressed_below_five(rate: Rate, shown: str, percent: float | None) -> None:
    assert (str(rate), rate.percent) == (shown, percent)
