"""Category suggestion trained on the shipped labelled set, measured on a held-out part."""

from services.intake.catalogue import categories
from services.intake.suggest import held_out_accuracy, load_examples


def test_the_labelled_set_is_large_enough_and_covers_the_catalogue():
    examples = load_examples()
    assert len(examples) >= 300
    labels = {c for c, _ in examples}
    assert labels == set(categories())  # every leaf, and nothing outside the catalogue
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
