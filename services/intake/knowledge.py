"""The hotline's knowledge base (data/knowledge.json), searched by character bigrams."""

import json
from functools import cache

from . import config, textsim


@cache
def articles() -> list[dict]:
    data = json.loads((config.data_dir() / "knowledge.json").read_text(encoding="utf-8"))
    for a in data["articles"]:
        a["_grams"] = textsim.bigrams(" ".join([a["title"], *a["keywords"], a["answer"]]))
        a["_key_grams"] = textsim.bigrams(" ".join([a["title"], *a["keywords"]]))
    return data["articles"]


def search(query: str, limit: int = 5) -> list[dict]:
    q = textsim.bigrams(query)
    if not q:
        return []
    scored = []
    for a in articles():
        # Title and keywords weigh more than the body: an operator types the caller's topic.
        score = 2 * len(q & a["_key_grams"]) / len(q) + len(q & a["_grams"]) / len(q)
        if score > 0:
            scored.append((round(score, 3), a))
    scored.sort(key=lambda t: -t[0])
    return [{"id": a["id"], "title": a["title"], "category": a["category"], "answer": a["answer"], "score": s}
            for s, a in scored[:limit]]
