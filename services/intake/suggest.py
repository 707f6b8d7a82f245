"""Category suggestion: the three most likely categories for a description.

A TF-IDF over character 1–2-grams with a multinomial logistic regression (scikit-learn).
Character n-grams need no Chinese word segmenter and handle the short, colloquial
sentences residents type; the model is trained at first use from data/complaints.tsv
(a labelled set written for this project), which takes well under a second.
"""

import threading
from dataclasses import dataclass
from functools import cache

from sqlalchemy.orm import Session

from shared.errors import ApiError

from . import config
from .catalogue import Category, current
from .submission import suggest_urgency

_lock = threading.Lock()


def load_examples() -> list[tuple[str, str]]:
    """The labelled set: (category code, sentence) per line of data/complaints.tsv."""
    rows = []
    for line in (config.data_dir() / "complaints.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, sentence = line.split("\t", 1)
        rows.append((code.strip(), sentence.strip()))
    return rows


def make_model():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True),
        LogisticRegression(C=20.0, max_iter=3000),
    )


@dataclass
class Suggester:
    model: object

    @classmethod
    def train(cls, examples: list[tuple[str, str]]) -> "Suggester":
        model = make_model()
        model.fit([s for _, s in examples], [c for c, _ in examples])
        return cls(model)

    def top(self, text: str, k: int = 3) -> list[tuple[str, float]]:
        probs = self.model.predict_proba([text])[0]
        classes = self.model.classes_
        order = probs.argsort()[::-1][:k]
        return [(str(classes[i]), round(float(probs[i]), 4)) for i in order]


@cache
def _trained() -> Suggester:
    return Suggester.train(load_examples())


def suggester() -> Suggester:
    with _lock:  # the first requests arriving together train once
        return _trained()


def suggest_categories(session: Session, description: str) -> tuple[list[tuple[Category, float]], str]:
    """The three most likely categories still in use, and the urgency the likeliest one suggests."""
    if len(description.strip()) < 2:
        raise ApiError(422, "suggest.too_short", field="description")
    catalogue = current(session)
    ranked = [(catalogue.nodes[code], score) for code, score in suggester().top(description, 3)
              if code in catalogue.nodes and catalogue.nodes[code].active]
    urgency = suggest_urgency(ranked[0][0], description) if ranked else "一般"
    return ranked, urgency
