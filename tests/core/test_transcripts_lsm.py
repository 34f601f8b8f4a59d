"""Language style matching against a hand-computed example (Ireland & Pennebaker 2010 formula)."""

from __future__ import annotations

import pytest

from spacebetween.core.transcripts.lsm import CATEGORIES, category_rates, lsm, words


def test_hand_computed_example() -> None:
    # A: "I think that I am not sure."  7 words: i i (personal), that (impersonal), am (auxiliary),
    #    not (negation).  B: "You are not the one."  5 words: you (personal), the (article),
    #    are (auxiliary), not (negation).  Percentages, counted by hand:
    a = {
        "personal_pronouns": 200 / 7,
        "impersonal_pronouns": 100 / 7,
        "auxiliary_verbs": 100 / 7,
        "negations": 100 / 7,
    }
    b = {"personal_pronouns": 20.0, "articles": 20.0, "auxiliary_verbs": 20.0, "negations": 20.0}
    # LSM_c = 1 - |p1 - p2| / (p1 + p2 + 0.0001), worked out on paper:
    expected = {
        "personal_pronouns": 0.8235298,  # 1 - 8.571429 / 48.571529
        "impersonal_pronouns": 0.0000070,  # 1 - 14.285714 / 14.285814
        "articles": 0.0000050,  # 1 - 20 / 20.0001
        "prepositions": 1.0,  # both 0: 1 - 0 / 0.0001
        "auxiliary_verbs": 0.8333338,  # 1 - 5.714286 / 34.285814
        "adverbs": 1.0,
        "conjunctions": 1.0,
        "negations": 0.8333338,
        "quantifiers": 1.0,
    }
    result = lsm("I think that I am not sure.", "You are not the one.")
    assert (result.words_a, result.words_b) == (7, 5)
    rates_a = category_rates(words("I think that I am not sure."))
    for c in CATEGORIES:
        assert rates_a[c] == pytest.approx(a.get(c, 0.0))
        assert category_rates(words("You are not the one."))[c] == pytest.approx(b.get(c, 0.0))
        assert result.per_category[c] == pytest.approx(expected[c], abs=1e-6)
    assert result.score == pytest.approx(6.4902094 / 9, abs=1e-6)  # 0.7211344


def test_identical_style_is_one_and_order_does_not_matter() -> None:
    assert lsm("I was there with them.", "I was there with them.").score == pytest.approx(1.0)
    one, two = "You seem worried about it.", "And I never know what to do"
    assert lsm(one, two).score == pytest.approx(lsm(two, one).score)


def test_contractions_split_into_auxiliary_and_negation() -> None:
    assert words("I don't think you've seen it, can't you?") == [
        "i",
        "do",
        "n't",
        "think",
        "you",
        "'ve",
        "seen",
        "it",
        "can",
        "n't",
        "you",
    ]
    rates = category_rates(words("don't"))
    assert rates["auxiliary_verbs"] == pytest.approx(50.0)
    assert rates["negations"] == pytest.approx(50.0)


def test_no_words_on_one_side() -> None:
    result = lsm("", "I am here.")
    assert result.words_a == 0
    assert 0.0 <= result.score <= 1.0
