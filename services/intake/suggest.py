"""Category suggestion: the three most likely categories for a description.

A TF-IDF over character 1–2-grams with a multinomial logistic regression (scikit-learn).
Character n-grams need no Chinese word segmenter and handle the short, colloquial
sentences residents type; the model is trained at first use from data/complaints.tsv
(a labelled set written for this project), which takes well under a second.
"""

import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).with_name("data") / "complaints.tsv"
_lock = threading.Lock()


def load_examples(path: Path = DATA_FILE) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
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


def held_out_accuracy(test_share: float = 0.25, seed: int = 7) -> dict:
    """Top-1 and top-3 accuracy on a stratified held-out part of the labelled set."""
    from sklearn.model_selection import train_test_split

    examples = load_examples()
    train, test = train_test_split(examples, test_size=test_share, random_state=seed,
                                   stratify=[c for c, _ in examples])
    s = Suggester.train(train)
    top1 = top3 = 0
    for code, sentence in test:
        ranked = [c for c, _ in s.top(sentence, 3)]
        top1 += ranked[0] == code
        top3 += code in ranked
    return {"train": len(train), "test": len(test), "top1": top1 / len(test), "top3": top3 / len(test)}
