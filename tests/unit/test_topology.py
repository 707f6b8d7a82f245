"""The message topology: topic matching, routing of every event, queue arguments, definitions."""

from datetime import UTC, datetime

import pytest

from shared.events import envelope_for, registered, routing_key, topic
from shared.events.intake import CaseSubmitted
from shared.messaging.topology import (
    DLX,
    EXCHANGE,
    TOPOLOGY,
    QueueSpec,
    Topology,
    event_key,
    queue_declarations,
    rabbitmq_definitions,
    topic_matches,
)


@pytest.mark.parametrize(
    ("binding", "key"),
    [
        ("a.b.c", "a.b.c"),
        ("a.*.c", "a.b.c"),
        ("*.*.*", "a.b.c"),
        ("intake.case.*.v1", "intake.case.submitted.v1"),
        # '#' at the end: zero or more words
        ("a.#", "a"),
        ("a.#", "a.b"),
        ("a.#", "a.b.c.d"),
        ("mediation.#", "mediation.case.opened.v1"),
        # '#' at the start
        ("#.c", "c"),
        ("#.c", "a.b.c"),
        # '#' in the middle
        ("a.#.c", "a.c"),
        ("a.#.c", "a.b.c"),
        ("a.#.c", "a.b.x.y.c"),
        # '#' alone matches anything
        ("#", "a"),
        ("#", "a.b.c.d.e"),
        # combinations
        ("#.*", "a"),
        ("*.#", "a.b.c"),
        ("a.#.*.d", "a.x.d"),
        ("a.#.#.d", "a.d"),
    ],
)
def test_topic_matches(binding, key):
    assert topic_matches(binding, key)


@pytest.mark.parametrize(
    ("binding", "key"),
    [
        ("a.b.c", "a.b.d"),
        ("a.b.c", "a.b"),
        ("a.b.c", "a.b.c.d"),
        # '*' is exactly one word
        ("a.*", "a"),
        ("a.*", "a.b.c"),
        ("*.c", "a.b.c"),
        ("intake.case.*.v1", "intake.case.submitted.v2"),
        ("intake.case.*.v1", "intake.case.v1"),
        ("intake.case.*.v1", "routing.case.dispatched.v1"),
        # '#' does not make the other words optional
        ("a.#", "b.a"),
        ("a.#", "ab"),
        ("#.c", "a.b.cd"),
        ("#.c", "c.a"),
        ("a.#.c", "a.b.d"),
        ("a.#.c", "b.c"),
        ("a.#.c", "a.c.b"),
    ],
)
def test_topic_does_not_match(binding, key):
    assert not topic_matches(binding, key)


def test_words_are_whole_words_not_prefixes():
    assert not topic_matches("intake", "intake.case.submitted.v1")
    assert not topic_matches("intake.case", "intake.case.submitted.v1")
    assert topic_matches("intake.#", "intake.case.submitted.v1")


def test_every_registered_event_routes_to_at_least_one_queue():
    events = registered()
    assert events, "the registry is empty"
    for event_type, version in events:
        key = routing_key(event_type, version)
        assert TOPOLOGY.route(key), f"{key} reaches no queue: it would be unroutable"


def test_no_service_consumes_its_own_events():
    for event_type, version in registered():
        source = event_type.split(".", 1)[0]
        services = {q.service for q in TOPOLOGY.route(routing_key(event_type, version))}
        assert source not in services, f"{event_type} loops back to {source}"


def test_case_dispatched_reaches_intake_and_notify_but_not_routing():
    names = {q.name for q in TOPOLOGY.route("routing.case.dispatched.v1")}
    assert names == {"intake.events", "notify.events"}
    assert "routing.events" not in names


def _submitted(channel: str, route: str) -> str:
    return topic(envelope_for(CaseSubmitted(case_id="c-1", case_no="2026-11-000001", category="env.garbage",
                                            channel=channel, route=route, submitted_at=datetime.now(UTC))))


def test_a_submitted_case_is_published_with_its_channel_and_route_after_its_type():
    assert _submitted("grid_patrol", "direct") == "intake.case.submitted.v1.grid_patrol.direct"
    assert event_key(_submitted("app", "dispatch")) == "intake.case.submitted.v1"
    assert event_key("routing.case.dispatched.v1") == "routing.case.dispatched.v1"


def test_a_case_filed_in_the_app_reaches_routing_and_notify_and_neither_grid_nor_selfgov():
    """The broker keeps from grid and selfgov the submitted cases they would only drop (issue 15)."""
    assert {q.name for q in TOPOLOGY.route(_submitted("app", "dispatch"))} == {"routing.events", "notify.events"}
    assert {q.name for q in TOPOLOGY.route(_submitted("hotline", "mediation"))} == {"routing.events",
                                                                                      "notify.events"}


def test_a_case_filed_on_patrol_reaches_grid_and_a_residents_matter_reaches_selfgov():
    assert {q.name for q in TOPOLOGY.route(_submitted("grid_patrol", "direct"))} == {
        "routing.events", "notify.events", "grid.events"}
    assert {q.name for q in TOPOLOGY.route(_submitted("app", "consultation"))} == {
        "routing.events", "notify.events", "selfgov.events"}
    assert {q.name for q in TOPOLOGY.route(_submitted("grid_patrol", "consultation"))} == {
        "routing.events", "notify.events", "grid.events", "selfgov.events"}


def test_a_submitted_case_published_before_its_topic_words_still_reaches_routing_and_notify():
    """An outbox row written by the previous release (no words after the version) is not lost on upgrade."""
    assert {q.name for q in TOPOLOGY.route("intake.case.submitted.v1")} == {"routing.events", "notify.events"}


def test_a_referral_reaches_routing_mediation_and_notify():
    names = {q.name for q in TOPOLOGY.route("intake.case.referred.v1")}
    assert names == {"routing.events", "mediation.events", "notify.events"}


def test_unbound_keys_reach_nothing():
    assert TOPOLOGY.route("intake.case.submitted.v2") == []
    assert TOPOLOGY.route("nobody.listens.here.v1") == []


def test_queues_for_and_queue_lookup():
    assert [q.name for q in TOPOLOGY.queues_for("routing")] == ["routing.events"]
    assert TOPOLOGY.queues_for("nobody") == []
    assert TOPOLOGY.queue("notify.events").service == "notify"
    with pytest.raises(KeyError):
        TOPOLOGY.queue("missing.events")


def test_queue_names_are_unique():
    names = [q.name for q in TOPOLOGY.queues]
    assert len(names) == len(set(names))
    assert TOPOLOGY.exchange == EXCHANGE and TOPOLOGY.dlx == DLX


@pytest.mark.parametrize("queue", TOPOLOGY.queues, ids=lambda q: q.name)
def test_queue_declarations(queue):
    decls = dict(queue_declarations(queue))
    main = decls[queue.name]
    assert main["x-queue-type"] == "quorum"
    assert main["x-delivery-limit"] == queue.delivery_limit
    assert main["x-dead-letter-exchange"] == DLX
    assert main["x-dead-letter-routing-key"] == queue.name

    retry_names = {f"{queue.name}.retry.{d}ms" for d in queue.retry_delays_ms}
    for delay in queue.retry_delays_ms:
        args = decls[f"{queue.name}.retry.{delay}ms"]
        assert args["x-queue-type"] == "quorum"
        assert args["x-message-ttl"] == delay
        # The TTL dead-letters through the default exchange straight back to the main queue.
        assert args["x-dead-letter-exchange"] == ""
        assert args["x-dead-letter-routing-key"] == queue.name

    assert decls[queue.dlq] == {"x-queue-type": "quorum"}
    assert queue.dlq == f"{queue.name}.dlq"
    assert set(decls) == {queue.name, queue.dlq} | retry_names


def test_queue_declarations_use_the_topology_dlx_and_deduplicate_delays():
    q = QueueSpec("x.events", "x", ("a.#",), retry_delays_ms=(100, 100, 200), delivery_limit=3)
    topo = Topology(exchange="ex", dlx="my.dlx", queues=(q,))
    decls = queue_declarations(q, topo)
    names = [name for name, _ in decls]
    assert names == ["x.events", "x.events.retry.100ms", "x.events.retry.200ms", "x.events.dlq"]
    main = dict(decls)["x.events"]
    assert main["x-dead-letter-exchange"] == "my.dlx"
    assert main["x-delivery-limit"] == 3


def test_retry_queue_repeats_the_last_delay():
    q = QueueSpec("q", "s", ("a.#",), retry_delays_ms=(1_000, 5_000, 30_000))
    assert q.retry_queue(1) == "q.retry.1000ms"
    assert q.retry_queue(2) == "q.retry.5000ms"
    assert q.retry_queue(3) == "q.retry.30000ms"
    assert q.retry_queue(4) == "q.retry.30000ms"
    assert q.retry_queue(50) == "q.retry.30000ms"
    assert q.max_attempts == 4


def test_every_retry_queue_is_declared():
    for q in TOPOLOGY.queues:
        declared = {name for name, _ in queue_declarations(q)}
        for attempt in range(1, q.max_attempts + 3):
            assert q.retry_queue(attempt) in declared


def test_rabbitmq_definitions_contain_every_queue_binding_and_dlq_binding():
    defs = rabbitmq_definitions()
    exchanges = {e["name"]: e for e in defs["exchanges"]}
    assert exchanges[EXCHANGE]["type"] == "topic" and exchanges[EXCHANGE]["durable"]
    assert exchanges[DLX]["type"] == "direct" and exchanges[DLX]["durable"]

    queues = {q["name"]: q for q in defs["queues"]}
    assert len(queues) == len(defs["queues"])  # no duplicates
    bindings = {(b["source"], b["destination"], b["routing_key"]) for b in defs["bindings"]}
    assert len(bindings) == len(defs["bindings"])

    for q in TOPOLOGY.queues:
        for name, args in queue_declarations(q):
            assert queues[name]["arguments"] == args
            assert queues[name]["durable"] is True
            assert queues[name]["auto_delete"] is False
        for b in q.bindings:
            assert (EXCHANGE, q.name, b) in bindings
        assert (DLX, q.dlq, q.name) in bindings

    expected_queues = sum(len(queue_declarations(q)) for q in TOPOLOGY.queues)
    assert len(queues) == expected_queues
    expected_bindings = sum(len(q.bindings) + 1 for q in TOPOLOGY.queues)
    assert len(bindings) == expected_bindings
    assert all(b["destination_type"] == "queue" for b in defs["bindings"])


def test_rabbitmq_definitions_of_a_custom_topology():
    q = QueueSpec("only.events", "only", ("x.*.v1",), retry_delays_ms=(10,))
    defs = rabbitmq_definitions(Topology(exchange="e1", dlx="d1", queues=(q,)))
    assert {e["name"] for e in defs["exchanges"]} == {"e1", "d1"}
    assert {x["name"] for x in defs["queues"]} == {"only.events", "only.events.retry.10ms", "only.events.dlq"}
    assert {(b["source"], b["destination"], b["routing_key"]) for b in defs["bindings"]} == {
        ("e1", "only.events", "x.*.v1"),
        ("d1", "only.events.dlq", "only.events"),
    }
