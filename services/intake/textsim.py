"""Similarity of short Chinese texts by character bigrams.

Chinese has no spaces; character bigrams catch shared words (垃圾, 清运, 东门) without a
word segmenter and are robust to the reporter's own phrasing. Punctuation and digits
are dropped so "3天" and "三天" noise does not count.
"""

import re
from functools import lru_cache

_KEEP = re.compile(r"[\u4e00-\u9fffA-Za-z]+")


# The same open cases are compared against every new submission near them: keep their grams (bounded: a
# description may be thousands of characters, and its grams several times its size).
@lru_cache(maxsize=4096)
def bigrams(text: str) -> frozenset[str]:
    grams: set[str] = set()
    for run in _KEEP.findall(text.lower()):
        if len(run) == 1:
            grams.add(run)
        grams.update(run[i:i + 2] for i in range(len(run) - 1))
    return frozenset(grams)


def similarity(a: str | frozenset[str], b: str | frozenset[str]) -> float:
    """Dice coefficient of the bigram sets: 0 (nothing shared) … 1 (same)."""
    ga = a if isinstance(a, frozenset) else bigrams(a)
    gb = b if isinstance(b, frozenset) else bigrams(b)
    if not ga or not gb:
        return 0.0
    return 2 * len(ga & gb) / (len(ga) + len(gb))
