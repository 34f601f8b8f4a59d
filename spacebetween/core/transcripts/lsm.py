"""Language style matching (Ireland & Pennebaker 2010) with the project's own function-word lists.

For each function-word category c, with p1 and p2 the percentage of all of a speaker's words that fall
in c (over the same stretch of talk):

    LSM_c = 1 - |p1 - p2| / (p1 + p2 + 0.0001)

and LSM is the mean of LSM_c over the nine categories. The lists below were written for this project
(docs/transcripts.md); they are not LIWC's, so values compare only with values scored by the same list
version (`FUNCTION_WORDS_VERSION`). A word may count in more than one category ("nothing" is an
impersonal pronoun and a negation), as in LIWC. Contractions are split first: "don't" gives "do" and
"n't" (a negation), "I'm" gives "i" and "'m" (an auxiliary).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

FUNCTION_WORDS_VERSION = "sb-fw-1"

FUNCTION_WORDS: dict[str, frozenset[str]] = {
    name: frozenset(words.split())
    for name, words in {
        "personal_pronouns": (
            "i me my mine myself we us our ours ourselves you your yours yourself yourselves he him his "
            "himself she her hers herself they them their theirs themselves"
        ),
        "impersonal_pronouns": (
            "it its itself this that these those anything anyone anybody something someone somebody "
            "everything everyone everybody nothing nobody whatever whoever whichever what which who "
            "whom whose"
        ),
        "articles": ("a an the"),
        "prepositions": (
            "about above across after against along among around as at before behind below beneath "
            "beside between beyond by despite down during except for from in inside into like near of "
            "off on onto out outside over past since through throughout till to toward towards under "
            "underneath until upon with within without"
        ),
        "auxiliary_verbs": (
            "am is are was were be been being 'm 're 's have has had having 've 'd do does did doing "
            "will would shall should can could may might must 'll ought"
        ),
        "adverbs": (
            "just really very too also then now here there only even still again always never ever "
            "often sometimes maybe actually probably quite rather almost already soon back away"
        ),
        "conjunctions": (
            "and but or nor so yet because although though while whereas if unless until since whether "
            "as than"
        ),
        "negations": ("no not n't never none nobody nothing nowhere neither nor without cannot"),
        "quantifiers": (
            "all any some many much more most few fewer less least lot lots several each every both "
            "either enough half little plenty whole"
        ),
    }.items()
}
CATEGORIES = tuple(FUNCTION_WORDS)
EPSILON = 0.0001

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*|'[a-z]+")
_IRREGULAR = {
    "can't": ["can", "n't"],
    "won't": ["will", "n't"],
    "shan't": ["shall", "n't"],
    "cannot": ["cannot"],
}


def words(text: str) -> list[str]:
    """Lower-case words with contractions split ("don't" -> do n't, "you've" -> you 've)."""
    out: list[str] = []
    for w in _WORD.findall(text.lower().replace("’", "'")):
        if w in _IRREGULAR:
            out += _IRREGULAR[w]
        elif w.endswith("n't") and len(w) > 3:
            out += [w[:-3], "n't"]
        elif "'" in w.strip("'"):
            head, _, tail = w.partition("'")
            out += [head, "'" + tail] if tail in {"m", "re", "s", "ve", "d", "ll"} else [w]
        else:
            out.append(w.strip("'") or w)
    return out


def category_rates(tokens: Sequence[str]) -> dict[str, float]:
    """Percentage of the words in each category (0 for every category when there are no words)."""
    n = len(tokens)
    return {
        c: (100.0 * sum(1 for t in tokens if t in FUNCTION_WORDS[c]) / n if n else 0.0) for c in CATEGORIES
    }


@dataclass(frozen=True)
class LSM:
    score: float
    per_category: dict[str, float]
    words_a: int
    words_b: int


def lsm(text_a: str | Iterable[str], text_b: str | Iterable[str]) -> LSM:
    """LSM between two speakers' words (a string, or several utterances each)."""
    ta = words(text_a if isinstance(text_a, str) else " ".join(text_a))
    tb = words(text_b if isinstance(text_b, str) else " ".join(text_b))
    pa, pb = category_rates(ta), category_rates(tb)
    per = {c: 1.0 - abs(pa[c] - pb[c]) / (pa[c] + pb[c] + EPSILON) for c in CATEGORIES}
    return LSM(sum(per.values()) / len(per), per, len(ta), len(tb))
