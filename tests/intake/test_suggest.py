"""Category suggestion trained on the shipped labelled set, measured on a held-out part."""

from sklearn.model_selection import train_test_split

from services.intake.catalogue import file_catalogue
from services.intake.suggest import Suggester, load_examples


def held_out_accuracy(test_share: float = 0.25, seed: int = 7) -> dict:
    """Top-1 and top-3 accuracy on a stratified held-out part of the labelled set."""
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


def test_the_labelled_set_is_large_enough_and_covers_the_catalogue():
    examples = load_examples()
    assert len(examples) >= 300
    labels = {c for c, _ in examples}
    leaves = {code for code, c in file_catalogue().nodes.items() if c.leaf}
    assert labels == leaves  # every leaf, and nothing outside the catalogue
    assert len({s for _, s in examples}) == len(examples)  # no sentence twice


def test_held_out_top1_and_top3_accuracy_clear_a_floor():
    # 31 classes: chance is about 3 % top-1 and 10 % top-3. The floors sit under what the
    # model measures (about 0.70 / 0.93 over several splits) so a real regression fails.
    for seed in (1, 7):
        result = held_out_accuracy(test_share=0.25, seed=seed)
        print(f"seed {seed}: {result}")
        assert result["test"] >= 75
        assert result["top1"] >= 0.6, result
        assert result["top3"] >= 0.85, result


def test_the_api_suggests_three_categories_and_an_urgency(intake):
    r = intake.client.post("/intake/v1/categories/suggest", json={"description": "楼下烧烤店油烟太大，窗户都不敢开"},
                           headers=intake.auth("resident"))
    assert r.status_code == 200
    body = r.json()
    assert len(body["suggestions"]) == 3 and body["suggestions"][0]["code"] == "env.fumes"
    assert body["suggestions"][0]["name"] == "油烟污水污染"
    r = intake.client.post("/intake/v1/categories/suggest", json={"description": "厨房燃气泄漏了，味道很大"},
                           headers=intake.auth("resident"))
    assert r.json()["suggestions"][0]["code"] == "utility.gas" and r.json()["urgency"] == "特急"
    r = intake.client.post("/intake/v1/categories/suggest", json={"description": "嗯"},
                           headers=intake.auth("resident"))
    assert r.status_code == 422 and r.json()["error"]["code"] == "suggest.too_short"
