"""The field rules every service shares (shared/fields.py), answered as every refusal is: 422, a stable
code, a Chinese message, the field."""

from datetime import datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from shared import errors
from shared.fields import Flag, Meaningful, When


class Body(BaseModel):
    text: Meaningful = Field(min_length=1, max_length=100)
    flag: Flag = False
    at: When | None = None


app = FastAPI()
errors.install(app)


@app.post("/things")
def post(body: Body) -> dict:
    return body.model_dump(mode="json")


client = TestClient(app)


@pytest.mark.parametrize("text", [" ", "   \n\t ", "\u3000\u3000", "\u200b\u200b", "\ufeff", "\u200d \u2060"])
def test_text_of_nothing_but_blanks_or_invisible_characters_is_refused(text):
    r = client.post("/things", json={"text": text})
    assert r.status_code == 422
    assert r.json()["error"] == {"code": "validation.blank", "message": "内容不能为空白", "field": "text",
                                 "errors": [{"code": "validation.blank", "message": "内容不能为空白", "field": "text"}]}


@pytest.mark.parametrize("text", ["垃圾\x00桶", "\x07响铃", "a\x1bb", "\x7f", "c\x85d"])
def test_text_with_a_control_character_is_refused(text):
    r = client.post("/things", json={"text": text})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation.control_character"


@pytest.mark.parametrize("text", ["小区东门垃圾桶满了", "第一行\n第二行\r\n\t第三行", " 前后有空格 ", "ok",
                                  "\u200b看得见"])
def test_text_that_says_something_is_kept_as_typed(text):
    r = client.post("/things", json={"text": text})
    assert r.status_code == 200 and r.json()["text"] == text


@pytest.mark.parametrize("value", ["0", "1", "no", "yes", "true", 0, 1])
def test_a_yes_or_no_is_a_json_boolean_only(value):
    r = client.post("/things", json={"text": "x", "flag": value})
    assert r.status_code == 422 and r.json()["error"]["field"] == "flag"


def test_true_and_false_are_taken():
    assert client.post("/things", json={"text": "x", "flag": True}).json()["flag"] is True


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1999-12-31T23:00:00Z"])
def test_a_time_nobody_means_is_refused_not_a_500(at):
    r = client.post("/things", json={"text": "x", "at": at})
    assert r.status_code == 422 and r.json()["error"]["field"] == "at"


def test_a_time_people_mean_is_taken():
    r = client.post("/things", json={"text": "x", "at": "2026-12-01T09:30:00+08:00"})
    assert r.status_code == 200 and datetime.fromisoformat(r.json()["at"]).year == 2026
