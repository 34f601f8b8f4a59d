"""The PDF renderer: a report with an inline chart becomes an A4 PDF whose first page shows the chart
and the expected words, with the page number and "Confidential"; a remote URL is refused, never fetched;
the project's own static files and data: URLs are served from disk."""

from __future__ import annotations

import socket
from typing import Any

import pypdfium2 as pdfium
import pytest

from spacebetween.insights import charts, pdf

A4_POINTS = (595.0, 842.0)  # 210 × 297 mm at 72 points an inch, rounded
ONE_PIXEL_PNG = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Any attempt to open a network connection is recorded and fails."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise OSError("network access in a test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


def report_html(*, extra: str = "") -> str:
    chart = charts.trajectory_chart(
        title="PHQ-9",
        scale_min=0,
        scale_max=27,
        higher_is_better=False,
        scores=[(1, 18.0), (2, 14.0), (3, 9.0)],
        cutoffs=[charts.Cutoff(10, "Caseness")],
        sessions=[1, 2, 3],
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Progress report</title>'
        '<link rel="stylesheet" href="/static/spacebetween/site.css"></head><body>'
        "<h1>Progress report</h1><p>Scores over the sessions.</p>"
        f'<figure class="chart">{chart.svg}<figcaption>{chart.summary}</figcaption></figure>'
        f"{extra}</body></html>"
    )


def first_page(document: bytes) -> tuple[pdfium.PdfPage, pdfium.PdfDocument]:
    pdf_document = pdfium.PdfDocument(document)
    return pdf_document[0], pdf_document


def test_a_report_renders_to_an_a4_pdf_with_the_chart_and_the_words(no_network: list[Any]) -> None:
    fetcher = pdf.LocalOnlyFetcher()
    document = pdf.render_pdf(report_html(), fetcher=fetcher)
    assert document.startswith(b"%PDF-")
    page, pdf_document = first_page(document)
    assert len(pdf_document) == 1
    width, height = page.get_size()
    assert (round(width), round(height)) == A4_POINTS

    text = page.get_textpage().get_text_range()
    for words in ("Progress report", "Scores over the sessions.", "Confidential", "Page 1 of 1"):
        assert words in text
    assert "Caseness (10)" in text  # drawn inside the SVG: the chart itself was rendered
    assert "Lower scores are better" in text

    image = page.render(scale=1).to_pil().convert("L")
    assert image.width > 0 and image.height > 0
    dark = sum(image.histogram()[:128])  # pixels darker than mid-grey
    assert dark > 1000  # lines, points and text, not a blank page
    assert no_network == []
    assert fetcher.refused == []
    assert "https://report.invalid/static/spacebetween/site.css" in fetcher.served


def test_a_remote_url_is_refused_and_never_fetched(no_network: list[Any]) -> None:
    fetcher = pdf.LocalOnlyFetcher()
    remote = (
        '<img src="http://example.com/x.png" alt="remote"><img src="file:///etc/passwd" alt="local file">'
    )
    document = pdf.render_pdf(report_html(extra=remote), fetcher=fetcher)
    assert document.startswith(b"%PDF-")
    assert fetcher.refused == ["http://example.com/x.png", "file:///etc/passwd"]
    assert not any("example.com" in url or url.startswith("file:") for url in fetcher.served)
    assert no_network == []


def test_data_urls_are_served(no_network: list[Any]) -> None:
    fetcher = pdf.LocalOnlyFetcher()
    pdf.render_pdf(report_html(extra=f'<img src="{ONE_PIXEL_PNG}" alt="dot">'), fetcher=fetcher)
    assert ONE_PIXEL_PNG in fetcher.served
    assert fetcher.refused == []


@pytest.mark.parametrize(
    "url",
    [
        "https://report.invalid/static/../settings.py",
        "https://report.invalid/static/%2e%2e/%2e%2e/etc/passwd",
        "https://report.invalid/media/x.png",
        "https://example.com/static/spacebetween/site.css",
        "https://report.invalid/static/spacebetween/missing.css",
    ],
)
def test_only_existing_static_files_of_the_project_map_to_disk(url: str) -> None:
    assert pdf.static_file(url) is None


def test_the_stylesheet_maps_to_its_file() -> None:
    path = pdf.static_file("https://report.invalid/static/spacebetween/site.css")
    assert path is not None and path.name == "site.css" and path.is_file()
