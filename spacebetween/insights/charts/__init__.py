"""Server-side SVG charts for the client page, the PDF report and the practice outcomes page.

Issue #5: the charts need no JavaScript, read in greyscale and come with text alternatives. So:

* every chart is a complete `<svg role="img">` with `<title>` and `<desc>`, plus a one-sentence summary
  and its data as a table (`Chart.summary`, `Chart.table_headers`, `Chart.table_rows`);
* no `style` attributes, no `<style>` and no scripts (the site's CSP forbids inline styles): only SVG
  presentation attributes (fill, stroke, stroke-dasharray, font-size), every value escaped by `svg.el`;
* greys only; series differ by dash pattern and point shape, bands are a light grey fill or a hatch;
* a fixed viewBox and `width="100%"`, so the page scales it (a 375 px phone shows it at about 0.7);
* deterministic: the same input gives the same bytes (ids are a hash of the input).

The modules: `svg` (escaped elements, numbers, point symbols, lines), `plot` (the types, geometry,
checks, axes, series and session events the session charts share), `legend`, and one module a chart:
`trajectory`, `space_between`, `process` and `bars` (the outcomes page). Callers use this package.
"""

from spacebetween.insights.charts.bars import outcome_bars
from spacebetween.insights.charts.plot import NO_SCORES, Chart, Cutoff, Marker
from spacebetween.insights.charts.process import deviation_chart, process_chart
from spacebetween.insights.charts.space_between import space_between_chart
from spacebetween.insights.charts.svg import percent
from spacebetween.insights.charts.trajectory import trajectory_chart

__all__ = [
    "NO_SCORES",
    "Chart",
    "Cutoff",
    "Marker",
    "deviation_chart",
    "outcome_bars",
    "percent",
    "process_chart",
    "space_between_chart",
    "trajectory_chart",
]
