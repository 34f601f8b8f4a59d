"""The progress report's layout in a real browser (Debian's chromium): the report's HTML, the same that
WeasyPrint turns into the PDF, at 375 px. Every chart has a visible title that names it, its legend
inside the drawing and never cut short, text of at least 11 px, and the newest session's point and
check-in inside the drawing; no serious accessibility violation. The PDF's own pages are checked in
tests/insights/test_report.py."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from spacebetween.insights.report import report_html
from spacebetween.measures import services as measures
from spacebetween.measures.selectors import licensed_pack, pack_terms_digest
from spacebetween.relationship import services as relationship
from tests.browser.conftest import PHONE, serious_accessibility_violations
from tests.conftest import share_for_supervision
from tests.insights.conftest import course  # noqa: F401 (the fixture, for the scores)

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

SESSIONS = 6

# Per chart: its title, the rendered size of its smallest text, the legend entries, and the newest
# session's elements (points, markers, check-in: each with a "Session N:" or "Session N, ..." tooltip),
# each with whether it lies inside the viewBox and inside the SVG's box on screen.
MEASURE = """(last) => [...document.querySelectorAll('figure.chart')].map((figure) => {
  const svg = figure.querySelector('svg');
  const scale = svg.getScreenCTM().a;
  const vb = svg.viewBox.baseVal;
  const box = svg.getBoundingClientRect();
  const inside = (el) => {
    const b = el.getBBox();
    const r = el.getBoundingClientRect();
    return b.x >= vb.x - 0.5 && b.y >= vb.y - 0.5 && b.x + b.width <= vb.x + vb.width + 0.5
      && b.y + b.height <= vb.y + vb.height + 0.5
      && r.left >= box.left - 1 && r.right <= box.right + 1
      && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
  };
  const texts = [...svg.querySelectorAll('text')].filter((t) => t.textContent.trim());
  const caption = figure.querySelector('.chart-title');
  const newest = [...svg.querySelectorAll('title')]
    .filter((t) => new RegExp(`^Session ${last}[,:]`).test(t.textContent))
    .map((t) => ({tip: t.textContent, kind: t.parentElement.getAttribute('class') || t.parentElement.tagName,
                  inside: inside(t.parentElement)}));
  return {
    title: svg.querySelector('title').textContent,
    caption: caption ? caption.textContent.trim() : '',
    captionShown: caption !== null && caption.getBoundingClientRect().height > 0
      && getComputedStyle(caption).visibility !== 'hidden',
    smallest: Math.min(...texts.map((t) => parseFloat(getComputedStyle(t).fontSize) * scale)),
    smallestText: texts.map((t) => [parseFloat(getComputedStyle(t).fontSize) * scale, t.textContent])
      .sort((a, b) => a[0] - b[0])[0][1],
    legend: [...svg.querySelectorAll('.sb-legend')].map((t) => ({text: t.textContent, inside: inside(t)})),
    newest,
  };
})"""


@pytest.fixture
def report(alice, admin, course) -> str:  # noqa: F811
    """The supervision copy (the therapist's ratings and a shared check-in on the newest session) of a
    course of six sessions with a PHQ-9, a GAD-7 and the client's WAI-SR."""
    measures.licensed_pack_accept(actor=admin, terms_digest=pack_terms_digest(licensed_pack()), accepted=True)
    episode = course(
        "Robin",
        phq9=[18, 17, 15, 14, 12, 11],
        gad7=[14, 13, 13, 12, 10, 9],
        wai_sr=[48, 50, 51, 44, 50, 53],
    )
    for session in episode.sessions.all():
        relationship.reflection_record(
            actor=alice,
            session=session,
            answers={"bond": 5, "goals": 6, "tasks": 6, "overall": 7},
            feelings=["protective"],
            intensity=5,
            share_with_supervisor=True,
        )
    share_for_supervision(alice, episode)  # the supervision copy holds the shared episodes only
    request = RequestFactory().get("/")
    request.user = alice
    return report_html(request, episode.client, "supervision")  # type: ignore[arg-type]


def test_at_375_px_every_chart_is_titled_readable_and_whole(chromium: Any, report: str, screenshot) -> None:
    context = chromium.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.set_content(report)
        assert page.locator("h1").inner_text() == "Progress report for supervision"  # the right page
        charts = page.evaluate(MEASURE, SESSIONS)
        screenshot(page, "report-375")
        titles = [c["title"] for c in charts]
        assert len(charts) >= 3, titles  # PHQ-9, GAD-7 and the space between at least
        assert any("(PHQ-9)" in t for t in titles) and any("space between" in t for t in titles)
        for chart in charts:
            name = chart["title"]
            assert chart["captionShown"] and chart["caption"] == name, name  # a visible title
            assert chart["smallest"] >= 11, (name, chart["smallest"], chart["smallestText"])
            assert chart["legend"], name
            for entry in chart["legend"]:
                assert entry["inside"] and not entry["text"].endswith("…"), (name, entry)
            assert chart["newest"], name  # the newest session is drawn ...
            for element in chart["newest"]:
                assert element["inside"], (name, element)  # ... and not clipped
        kinds = {e["kind"] for c in charts for e in c["newest"]}
        assert "sb-checkin" in kinds  # the newest check-in, shared with the supervisor, is drawn whole
        assert serious_accessibility_violations(page) == []
    finally:
        context.close()
