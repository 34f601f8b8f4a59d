"""Transparent rules over one utterance. These are RULES, not a trained model and not validated against
hand-coded data: each flag keeps the words it matched so that a reader can check it.

- emotion words: a small lexicon written by this project (not LIWC, not NRC), by family;
- naming the client's feeling (therapist): second person + feeling verb + emotion word
  ("you sound really angry", "you're feeling a bit lost", "it sounds like you feel ashamed");
- here-and-now / relationship talk: talk about this session, this room, or between the two people;
- Socratic question (therapist): an open question with a guided-discovery cue ("what is the evidence",
  "what would you tell a friend", "another way of looking at it").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EMOTION_WORDS: dict[str, frozenset[str]] = {
    family: frozenset(ws.split())
    for family, ws in {
        "sadness": (
            "sad sadness unhappy down low depressed depressing hopeless miserable gloomy grief grieving "
            "heartbroken lonely alone empty hurt hurting disappointed disappointing upset crying "
            "tearful lost"
        ),
        "fear": (
            "afraid scared frightened fear fearful anxious anxiety worried worry worrying nervous panic "
            "panicky terrified tense stressed stress overwhelmed uneasy insecure"
        ),
        "anger": (
            "angry anger mad furious annoyed irritated frustrated frustrating frustration resentful "
            "resentment bitter cross fed rage hostile"
        ),
        "shame": ("ashamed shame embarrassed embarrassing guilty guilt humiliated stupid worthless useless"),
        "joy": (
            "happy glad joy joyful pleased excited relieved relief proud content calm hopeful grateful "
            "thankful confident good great better"
        ),
        "affection": ("love loved loving caring cared close connected trust trusted"),
        "confusion": ("confused unsure uncertain torn ambivalent stuck conflicted"),
    }.items()
}
_EMOTION = {w: family for family, ws in EMOTION_WORDS.items() for w in ws}
# Words of the joy family that are too common to count as emotion talk on their own ("good", "great",
# "better"), except after a feeling verb.
_WEAK = frozenset({"good", "great", "better", "fed", "cross", "down", "low", "lost", "close", "alone"})

_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")
_FEELING_FRAME = re.compile(
    r"\b(?:you(?:'re| are)?|you've been)\s+(?:(?:really|quite|a bit|a little|so|pretty|very|kind of|sort of|"
    r"still|also|just)\s+)*(?:feel(?:ing|s)?|felt|sound(?:ing|s)?|seem(?:ing|s)?|look(?:ing|s)?|get(?:ting)?|"
    r"got|were|are|'re)\s+(?:(?:really|quite|a bit|a little|so|pretty|very|kind of|sort of|like|rather|"
    r"more|less|somewhat|too)\s+)*(?P<word>[a-z]+)"
)
_HERE_AND_NOW = re.compile(
    r"\b(?:right now|in here|in this room|this session|today's session|here today|between us|"
    r"talking (?:to|with) (?:you|me)|with me (?:right )?now|you and (?:i|me)|"
    r"our (?:relationship|work|sessions?)|coming here|as we talk|how (?:is|was) (?:this|that) for you|"
    r"(?:i|you) (?:feel|felt) (?:judged|criticised|criticized|understood|heard) by (?:you|me)|"
    r"you don't understand)\b"
)
_OPEN_START = re.compile(
    r"^\s*(?:so,?\s+|and\s+|okay,?\s+|well,?\s+)*(?:what|how|why|in what way|tell me|"
    r"help me understand|if you|suppose|imagine)\b"
)
_SOCRATIC_CUE = re.compile(
    r"\b(?:evidence|alternative|another way|other ways?|different way|what would you (?:say|tell)|"
    r"a friend|what makes you (?:think|believe|say|sure)|how do you know|how likely|worst (?:that|thing)|"
    r"best that could|what else could|what would it mean|for and against|realistic|on the other hand|"
    r"what if|looking back|how would (?:someone|somebody|others?)|what do you make of)\b"
)


@dataclass(frozen=True)
class Flags:
    emotion_words: tuple[str, ...]
    emotion_families: tuple[str, ...]
    names_feeling: str  # the matched words, "" when none
    here_and_now: str
    socratic_question: str


def emotion_words(text: str) -> list[str]:
    """The lexicon's emotion words in the text, in order (common words like "good" left out)."""
    return [w for w in _TOKEN.findall(_norm(text)) if w in _EMOTION and w not in _WEAK]


def names_feeling(text: str) -> str:
    """The words of a second-person feeling statement ("you sound angry"), or ""."""
    for m in _FEELING_FRAME.finditer(_norm(text)):
        if m.group("word") in _EMOTION:
            return m.group(0)
    return ""


def here_and_now(text: str) -> str:
    m = _HERE_AND_NOW.search(_norm(text))
    return m.group(0) if m else ""


def socratic_question(text: str) -> str:
    """An open question with a guided-discovery cue: the cue's words, or ""."""
    t = _norm(text)
    for sentence in re.split(r"(?<=[.!?])\s+", t):
        if sentence.endswith("?") and _OPEN_START.search(sentence):
            cue = _SOCRATIC_CUE.search(sentence)
            if cue:
                return cue.group(0)
    return ""


def flags(text: str, speaker: str) -> Flags:
    """Every rule on one utterance; the therapist-only rules are blank for a client."""
    found = emotion_words(text)
    is_therapist = speaker == "therapist"
    return Flags(
        emotion_words=tuple(found),
        emotion_families=tuple(sorted({_EMOTION[w] for w in found})),
        names_feeling=names_feeling(text) if is_therapist else "",
        here_and_now=here_and_now(text),
        socratic_question=socratic_question(text) if is_therapist else "",
    )


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower().replace("’", "'")).strip()
