"""The primary papers behind WAI-SR, BRS, AAQ-II and CORE-10 are cited in full: authors, year, title,
journal, volume, pages and DOI, as in test_definitions_content.py.

Every expected value is written by hand from the paper's own first page or its PubMed record, never
read back from the definition file, so a wrong edit to a file fails here.
"""

from __future__ import annotations

import pytest

from spacebetween.core.instruments import Citation, Instrument, get


def _instrument(instrument_id: str) -> Instrument:
    return get(instrument_id, include_licensed=True)


def _citation(instrument_id: str, key: str) -> Citation:
    found = [c for c in _instrument(instrument_id).citations if c.key == key]
    assert len(found) == 1, f"{instrument_id} cites {key} once"
    return found[0]


# (instrument, citation key, DOI, what the text must name: first author, year, title, journal,
# volume(issue):pages)
PRIMARY_PAPERS = [
    (
        "wai-sr",
        "hatcher_gillaspy2006",
        "10.1080/10503300500352500",
        (
            "Hatcher RL, Gillaspy JA",
            "2006",
            "Development and validation of a revised short version of the Working Alliance Inventory",
            "Psychotherapy Research",
            "16(1):12-25",
        ),
    ),
    (
        "wai-sr",
        "munder2010",
        "10.1002/cpp.658",
        (
            "Munder T, Wilmers F, Leonhart R, Linster HW, Barth J",
            "2010",
            "Working Alliance Inventory-Short Revised (WAI-SR): psychometric properties in outpatients "
            "and inpatients",
            "Clinical Psychology and Psychotherapy",
            "17(3):231-239",
        ),
    ),
    (
        "brs",
        "smith2008",
        "10.1080/10705500802222972",
        (
            "Smith BW, Dalen J, Wiggins K, Tooley E, Christopher P, Bernard J",
            "2008",
            "The Brief Resilience Scale: assessing the ability to bounce back",
            "International Journal of Behavioral Medicine",
            "15(3):194-200",
        ),
    ),
    (
        "aaq2",
        "bond2011",
        "10.1016/j.beth.2011.03.007",
        (
            "Bond FW, Hayes SC, Baer RA, Carpenter KM, Guenole N, Orcutt HK, Waltz T, Zettle RD",
            "2011",
            "Preliminary psychometric properties of the Acceptance and Action Questionnaire-II",
            "Behavior Therapy",
            "42(4):676-688",
        ),
    ),
    (
        "core10",
        "barkham2013",
        "10.1080/14733145.2012.729069",
        (
            "Barkham M, Bewick B, Mullin T, Gilbody S, Connell J, Cahill J, Mellor-Clark J, Richards D, "
            "Unsworth G, Evans C",
            "2013",
            "The CORE-10: A short measure of psychological distress for routine use in the "
            "psychological therapies",
            "Counselling and Psychotherapy Research",
            "13(1):3-13",
        ),
    ),
]


@pytest.mark.parametrize(
    ("instrument_id", "key", "doi", "parts"), PRIMARY_PAPERS, ids=[f"{p[0]}-{p[1]}" for p in PRIMARY_PAPERS]
)
def test_the_primary_paper_is_cited_in_full_with_its_doi(
    instrument_id: str, key: str, doi: str, parts: tuple[str, ...]
) -> None:
    citation = _citation(instrument_id, key)
    assert citation.doi == doi
    missing = [part for part in parts if part not in citation.text]
    assert not missing, f"{instrument_id} {key} does not name {missing}: {citation.text!r}"


@pytest.mark.parametrize("instrument_id", ["wai-sr", "brs", "aaq2", "core10"])
def test_the_first_citation_is_a_paper_with_a_doi(instrument_id: str) -> None:
    # The instrument's own development paper comes first: it is what a report cites.
    first = _instrument(instrument_id).citations[0]
    assert first.doi is not None and first.doi.startswith("10.")


@pytest.mark.parametrize("instrument_id", ["wai-sr", "brs", "aaq2", "core10"])
def test_no_citation_points_outside_the_repository(instrument_id: str) -> None:
    # Sources are papers and public pages, never a path on somebody's machine.
    instrument = _instrument(instrument_id)
    texts = [c.text for c in instrument.citations] + list(instrument.definition.get("notes", []))
    assert not [t for t in texts if "shared/research" in t]


def test_aaq2_clinical_range_is_strictly_above_24_to_28() -> None:
    # Bond et al. 2011: scores > 24-28 suggest probable current clinical distress; a range of
    # thresholds, each strictly above (">"), never ">=" nor a single "29".
    caseness = _instrument("aaq2").scale("total").caseness
    assert caseness is not None
    assert (caseness.cutoff, caseness.operator) == (24, ">")
    assert [(a.cutoff, a.operator) for a in caseness.alternatives] == [(28, ">")]
    assert caseness.source.startswith("bond2011")


def test_core10_has_no_severity_bands_until_the_source_is_checked() -> None:
    # Barkham et al. 2013 state the clinical cut-off (11) and an RCI of 6, not the severity bands the
    # web repeats (which disagree with each other), so none are shipped.
    total = _instrument("core10").scale("total")
    assert total.bands == ()
    assert total.caseness is not None and (total.caseness.cutoff, total.caseness.operator) == (11, ">=")


def test_brs_shows_smith_et_als_instruction_sentence_verbatim() -> None:
    # Smith et al. 2008, p. 196, as reprinted with permission (Box 1): the one verified instruction.
    assert _instrument("brs").instructions == (
        "Please indicate the extent to which you agree with each of the following statements by using "
        "the following scale: 1 = strongly disagree, 2 = disagree, 3 = neutral, 4 = agree, "
        "5 = strongly agree.",
    )


@pytest.mark.parametrize("instrument_id", ["wai-sr", "aaq2"])
def test_no_unverified_instruction_text_is_shown(instrument_id: str) -> None:
    # No verified source for the WAI-SR's or the AAQ-II's instruction paragraph: none is shown, and
    # the items are still all there (the check reads the right definition).
    instrument = _instrument(instrument_id)
    assert instrument.instructions == ()
    assert len(instrument.items) == {"wai-sr": 12, "aaq2": 7}[instrument_id]
