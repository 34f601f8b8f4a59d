"""The transcript rules: emotion words, naming a feeling, here-and-now talk, Socratic questions."""

from __future__ import annotations

import pytest

from spacebetween.core.transcripts import rules


def test_emotion_words_by_family() -> None:
    found = rules.flags("I was so anxious and then just angry at myself, honestly ashamed.", "client")
    assert found.emotion_words == ("anxious", "angry", "ashamed")
    assert found.emotion_families == ("anger", "fear", "shame")
    # common words of the joy family do not count on their own
    assert rules.emotion_words("That's a good point, great.") == []


@pytest.mark.parametrize(
    "text",
    [
        "You sound really angry about that.",
        "It sounds like you're feeling a bit lost.",
        "You seem worried.",
        "You felt ashamed when she said it.",
    ],
)
def test_names_the_clients_feeling(text: str) -> None:
    assert rules.names_feeling(text)


@pytest.mark.parametrize(
    "text",
    [
        "I feel angry about that.",  # first person: the therapist's own feeling
        "You sound like you have a plan.",  # no emotion word
        "Angry people often drink more.",  # no second person
    ],
)
def test_does_not_name_a_feeling(text: str) -> None:
    assert rules.names_feeling(text) == ""


def test_naming_feelings_and_socratic_are_therapist_rules() -> None:
    assert rules.flags("You sound angry.", "client").names_feeling == ""
    assert rules.flags("You sound angry.", "therapist").names_feeling == "you sound angry"


def test_here_and_now() -> None:
    assert rules.here_and_now("How is it for you, talking to me about this right now?") == "talking to me"
    assert rules.here_and_now("I felt judged by you last week.") == "i felt judged by you"
    assert rules.here_and_now("We went to the shops on Monday.") == ""


def test_socratic_question_needs_an_open_question_and_a_cue() -> None:
    assert rules.socratic_question("What is the evidence that they think you're useless?") == "evidence"
    assert rules.socratic_question("What would you tell a friend who said that?") == "what would you tell"
    assert rules.socratic_question("Is there any evidence for that?") == ""  # closed question
    assert rules.socratic_question("The evidence is clear.") == ""  # not a question
    assert rules.socratic_question("What did you have for breakfast?") == ""  # open, no cue
