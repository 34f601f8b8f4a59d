"""Mentalizing on the RFQ-8: two scales read as distances from genuine mentalizing, never as "higher is
better".

Fonagy, Luyten, Moulton-Perkins et al. (2016), Development and validation of a self-report measure of
mentalizing: the Reflective Functioning Questionnaire, PLoS ONE 11(7): e0158678 (CC BY), score the RFQ
on two scales whose recoding counts only the extreme answers (the UCL key, rfq8.json):

* certainty about mental states (RFQ_c; items 1-6 recoded 3, 2, 1, 0, 0, 0, 0): very low agreement
  with statements that mental states are opaque reflects hypermentalizing (excessive certainty), some
  agreement adaptive certainty, so a HIGH RFQ_c leans toward hypermentalizing;
* uncertainty about mental states (RFQ_u; recoded 0, 0, 0, 0, 1, 2, 3): high scores reflect an almost
  complete lack of knowledge about mental states (hypomentalizing), low scores the acknowledgement of
  the opacity of mental states typical of genuine mentalizing.

So 0 on both scales is the region the authors describe as genuine mentalizing, and each score is its
distance from it, toward its own pole. A rise in certainty is therefore not an improvement: the charts
draw RFQ_c above a zero line (toward hypermentalizing) and RFQ_u below it (toward hypomentalizing), in
RFQ points (the mean of the six recoded items, 0-3), with no arrow and no colour for "better". No
published cut-off marks where the genuine region ends, so none is drawn.

Validity caveat: Müller, Wendt et al. (A critical evaluation of the RFQ, J Pers Assess) find that the
RFQ mostly captures hypomentalizing and is unlikely to capture maladaptive hypermentalizing; the
certainty pole is shown as the authors define it, with that caveat, not as a validated finding.
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE = "Fonagy et al. 2016, PLoS ONE 11(7): e0158678"
CAVEAT = (
    "Müller, Wendt et al. (J Pers Assess) find the RFQ mostly captures hypomentalizing and is unlikely to "
    "capture hypermentalizing."
)


@dataclass(frozen=True)
class DeviationScale:
    """A scale read as a distance from genuine mentalizing (its score; 0 = in the genuine region)."""

    instrument_id: str
    scale_id: str
    label: str  # e.g. "Certainty (RFQ_c)"
    pole: str  # where a higher score leans: "hypermentalizing" | "hypomentalizing"
    side: int  # +1 drawn above the zero line, -1 below it


RFQ8_CERTAINTY = DeviationScale("rfq8", "certainty", "Certainty (RFQ_c)", "hypermentalizing", +1)
RFQ8_UNCERTAINTY = DeviationScale("rfq8", "uncertainty", "Uncertainty (RFQ_u)", "hypomentalizing", -1)
DEVIATION_SCALES: tuple[DeviationScale, ...] = (RFQ8_CERTAINTY, RFQ8_UNCERTAINTY)


def deviation_scales(instrument_id: str) -> tuple[DeviationScale, ...]:
    """The scales of this instrument read as distances from genuine mentalizing (none for others)."""
    return tuple(d for d in DEVIATION_SCALES if d.instrument_id == instrument_id)


def describe(scale: DeviationScale, score: float) -> str:
    """Plain words for one score, with no judgement of better or worse beyond the source's own."""
    if score == 0:
        return f"{scale.label} 0: in the region the RFQ's authors describe as genuine mentalizing"
    return f"{scale.label} {round(score, 2):g} of 3 from 0, toward {scale.pole}"
