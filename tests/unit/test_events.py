"""The event envelope, the payload registry and decoding."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.events import (
    Envelope,
    InvalidEvent,
    Payload,
    Subject,
    UnknownEvent,
    decode,
    envelope_for,
    payload_model,
    registered,
    routing_key,
)
from shared.events import registry as registry_module
from shared.events.intake import CaseSubmitted
from shared.events.routing import CaseDispatched

SUBMITTED_AT = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


def submitted(**overrides) -> CaseSubmitted:
    values = dict(case_id="c-1", case_no="202405-000001", category="环境卫生", channel="app",
                  urgency="紧急", lat=30.6283, lon=104.052115, reporter_id="u-resident-1",
                  submitted_at=SUBMITTED_AT)
    values.update(overrides)
    return CaseSubmitted(**values)


def dispatched() -> CaseDispatched:
    return CaseDispatched(case_id="c-9", case_no="202405-000009", work_order_id="wo-1", seq=3,
                          unit_id="unit-1", unit_code="510107001001001", unit_name="第一网格",
                          unit_level="grid", assignee_id="u-grid-worker-001001", rule="属地派单",
                          at=SUBMITTED_AT)


def test_round_trip_gives_the_same_envelope_and_a_typed_payload():
    payload = submitted()
    env = envelope_for(payload, correlation_id="req-1", causation_id="msg-0")

    decoded_env, decoded_payload = decode(env.to_bytes())

    assert decoded_env == env
    assert decoded_env.occurred_at == env.occurred_at
    assert decoded_env.occurred_at.tzinfo is not None
    assert type(decoded_payload) is CaseSubmitted
    assert decoded_payload == payload
    assert decoded_payload.submitted_at == SUBMITTED_AT
    assert decoded_payload.lat == pytest.approx(30.6283)


def test_round_trip_keeps_optional_fields_absent():
    payload = submitted(lat=None, lon=None, reporter_id=None)
    _, decoded = decode(envelope_for(payload).to_bytes())
    assert decoded.reporter_id is None and decoded.lat is None and decoded.lon is None
    assert decoded.urgency == "紧急"


def test_to_bytes_is_json_with_the_envelope_fields():
    env = envelope_for(submitted(), correlation_id="req-1")
    raw = json.loads(env.to_bytes())
    assert raw["type"] == "intake.case.submitted"
    assert raw["version"] == 1
    assert raw["subject"] == {"kind": "case", "id": "c-1"}
    assert raw["data"]["case_no"] == "202405-000001"
    assert raw["correlation_id"] == "req-1"


def test_routing_key_format():
    assert routing_key("intake.case.submitted", 1) == "intake.case.submitted.v1"
    assert routing_key("routing.case.dispatched", 12) == "routing.case.dispatched.v12"
    assert envelope_for(submitted()).routing_key == "intake.case.submitted.v1"
    assert envelope_for(dispatched()).routing_key == "routing.case.dispatched.v1"


def test_envelope_for_sets_source_subject_and_ids():
    env = envelope_for(dispatched(), correlation_id="corr-7", causation_id="cause-3")
    assert env.type == "routing.case.dispatched"
    assert env.version == 1
    assert env.source == "routing"
    assert env.subject == Subject(kind="case", id="c-9")
    assert env.correlation_id == "corr-7"
    assert env.causation_id == "cause-3"
    assert env.data["work_order_id"] == "wo-1"
    assert env.data["at"] == "2024-05-06T07:08:09.123456Z"

    other = envelope_for(submitted())
    assert other.source == "intake"
    assert other.subject.id == "c-1"
    assert other.correlation_id is None and other.causation_id is None
    assert other.id != env.id  # a fresh message id each time


def test_envelope_for_gives_a_fresh_id_and_a_current_utc_timestamp():
    before = datetime.now(UTC)
    a, b = envelope_for(submitted()), envelope_for(submitted())
    after = datetime.now(UTC)
    assert a.id != b.id
    assert before <= a.occurred_at <= after
    assert a.occurred_at.utcoffset() == timedelta(0)


def test_payload_model_lookup():
    assert payload_model("intake.case.submitted", 1) is CaseSubmitted
    assert payload_model("routing.case.dispatched", 1) is CaseDispatched
    with pytest.raises(UnknownEvent):
        payload_model("intake.case.submitted", 2)


def test_registered_lists_the_catalogue():
    reg = registered()
    assert reg[("intake.case.submitted", 1)] is CaseSubmitted
    assert reg[("routing.case.dispatched", 1)] is CaseDispatched
    reg.clear()  # a copy: the registry itself is untouched
    assert ("intake.case.submitted", 1) in registered()


def _body(**changes) -> bytes:
    raw = json.loads(envelope_for(submitted()).to_bytes())
    raw.update(changes)
    return json.dumps(raw).encode()


@pytest.mark.parametrize(
    "changes",
    [
        {"type": "intake.case.vanished"},
        {"version": 2},
        {"type": "nobody.nothing.happened", "version": 1},
    ],
)
def test_decode_of_an_unknown_type_or_version_raises_unknown_event(changes):
    with pytest.raises(UnknownEvent):
        decode(_body(**changes))


@pytest.mark.parametrize(
    "body",
    [
        b"not json at all",
        b"",
        b"\xff\xfe\x00",
        b"[1, 2, 3]",
        b'{"type": "intake.case.submitted"}',
    ],
)
def test_decode_of_something_that_is_not_an_envelope_raises_invalid_event(body):
    with pytest.raises(InvalidEvent):
        decode(body)


def test_decode_of_an_envelope_with_version_zero_is_invalid():
    with pytest.raises(InvalidEvent):
        decode(_body(version=0))


@pytest.mark.parametrize(
    "data_change",
    [
        {"case_id": None},  # wrong type
        {"urgency": "随便"},  # not one of the literals
        {"submitted_at": "yesterday"},  # not a datetime
        {"unexpected": 1},  # extra fields are forbidden
    ],
)
def test_decode_of_a_wrong_data_shape_raises_invalid_event(data_change):
    raw = json.loads(envelope_for(submitted()).to_bytes())
    raw["data"].update(data_change)
    with pytest.raises(InvalidEvent):
        decode(json.dumps(raw).encode())


def test_decode_of_data_missing_a_required_field_raises_invalid_event():
    raw = json.loads(envelope_for(submitted()).to_bytes())
    del raw["data"]["case_no"]
    with pytest.raises(InvalidEvent):
        decode(json.dumps(raw).encode())


def test_unknown_and_invalid_are_distinct_errors():
    assert not issubclass(UnknownEvent, InvalidEvent)
    assert not issubclass(InvalidEvent, UnknownEvent)


def test_naive_occurred_at_is_treated_as_utc():
    env = Envelope(type="intake.case.submitted", version=1, source="intake",
                   occurred_at=datetime(2024, 1, 2, 3, 4, 5), subject=Subject(kind="case", id="c"), data={})
    assert env.occurred_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert env.occurred_at.utcoffset() == timedelta(0)


def test_naive_occurred_at_in_a_message_body_is_treated_as_utc():
    raw = json.loads(envelope_for(submitted()).to_bytes())
    raw["occurred_at"] = "2024-01-02T03:04:05"
    env, _ = decode(json.dumps(raw).encode())
    assert env.occurred_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_aware_occurred_at_is_converted_to_utc():
    beijing = timezone(timedelta(hours=8))
    env = Envelope(type="t.x.y", version=1, source="t",
                   occurred_at=datetime(2024, 1, 2, 11, 0, tzinfo=beijing),
                   subject=Subject(kind="case", id="c"), data={})
    assert env.occurred_at == datetime(2024, 1, 2, 3, 0, tzinfo=UTC)
    assert env.occurred_at.utcoffset() == timedelta(0)
    assert json.loads(env.to_bytes())["occurred_at"].startswith("2024-01-02T03:00:00")


def test_envelope_is_frozen():
    env = envelope_for(submitted())
    with pytest.raises(ValueError):
        env.type = "something.else"  # type: ignore[misc]


def test_registering_the_same_type_and_version_twice_raises():
    with pytest.raises(ValueError, match="registered twice"):

        @registry_module.event("intake.case.submitted", 1, subject=("case", "case_id"))
        class Again(Payload):
            case_id: str

    # The failed registration left the original in place.
    assert payload_model("intake.case.submitted", 1) is CaseSubmitted


def test_registering_a_new_type_twice_raises_and_the_first_stays():
    key = ("unittest.thing.happened", 7)
    try:

        @registry_module.event(*key, subject=("thing", "thing_id"))
        class ThingHappened(Payload):
            thing_id: int

        assert payload_model(*key) is ThingHappened
        env = envelope_for(ThingHappened(thing_id=42))
        assert env.subject == Subject(kind="thing", id="42")
        assert env.source == "unittest"
        assert decode(env.to_bytes())[1] == ThingHappened(thing_id=42)

        with pytest.raises(ValueError):

            @registry_module.event(*key, subject=("thing", "thing_id"))
            class ThingHappenedAgain(Payload):
                thing_id: int

        assert payload_model(*key) is ThingHappened
    finally:
        registry_module._REGISTRY.pop(key, None)
    assert key not in registered()
