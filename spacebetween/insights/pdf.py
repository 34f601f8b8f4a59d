"""HTML to PDF with WeasyPrint, for the client progress report: A4, page numbers, "Confidential" on
every page, and no network access, ever.

A report holds health data, so rendering must not leak that a report is being made (no request to a
third party) nor depend on one: the fetcher serves `data:` URLs and the project's own static files from
disk, and refuses every other URL (http, https, file, ftp ...). Charts come inline as SVG.
"""

from __future__ import annotations

import mimetypes
import posixpath
from pathlib import Path
from urllib.parse import unquote, urlsplit

import weasyprint
from django.conf import settings
from django.contrib.staticfiles import finders
from weasyprint.urls import URLFetcher, URLFetcherResponse

# Relative URLs in the template ("/static/...") resolve against this; `.invalid` never resolves (RFC
# 2606), and the fetcher maps it to files on disk before anything could try.
BASE_URL = "https://report.invalid/"

PAGE_CSS = """
@page {
  size: A4;
  margin: 18mm 16mm 20mm 16mm;
  @bottom-left { content: "Confidential"; font-family: "DejaVu Sans", sans-serif; font-size: 8pt; }
  @bottom-right {
    content: "Page " counter(page) " of " counter(pages);
    font-family: "DejaVu Sans", sans-serif; font-size: 8pt;
  }
}
"""


class RefusedURL(ValueError):
    """A URL the report may not load; WeasyPrint leaves the resource out and goes on."""


class LocalOnlyFetcher(URLFetcher):
    """Serves `data:` URLs and the project's static files; refuses everything else, and remembers what
    it served and refused (for the tests and for a caller that wants to warn about a missing image)."""

    def __init__(self) -> None:
        # Only data: may reach urllib at all; static files are read here without it.
        super().__init__(allowed_protocols=["data"], allow_redirects=False)
        self.served: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        if url.startswith("data:"):
            self.served.append(url)
            return super().fetch(url, headers)
        path = static_file(url)
        if path is None:
            self.refused.append(url)
            raise RefusedURL(f"a report loads only its own static files and data: URLs, not {url}")
        self.served.append(url)
        mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": mime_type})


def static_file(url: str) -> Path | None:
    """The file on disk behind one of the project's static URLs (at BASE_URL), or None."""
    parts = urlsplit(url)
    base = urlsplit(BASE_URL)
    static_prefix = "/" + settings.STATIC_URL.strip("/") + "/"
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or not parts.path.startswith(static_prefix):
        return None
    relative = posixpath.normpath(unquote(parts.path[len(static_prefix) :]))
    if relative.startswith(("../", "/")) or relative in ("..", "."):
        return None
    found = finders.find(relative)
    if isinstance(found, str):
        return Path(found)
    if settings.STATIC_ROOT:
        candidate = Path(settings.STATIC_ROOT) / relative
        if candidate.is_file():
            return candidate
    return None


def render_pdf(html: str, *, fetcher: LocalOnlyFetcher | None = None) -> bytes:
    """The PDF of `html` (a complete document), A4 with page numbers and a "Confidential" footer."""
    fetcher = fetcher or LocalOnlyFetcher()
    page = weasyprint.CSS(string=PAGE_CSS, url_fetcher=fetcher)
    pdf = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).write_pdf(stylesheets=[page])
    assert pdf is not None  # write_pdf returns the bytes when given no target
    return pdf
