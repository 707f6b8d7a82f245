"""The message topology, declared once.

Both transports read this table: the AMQP transport declares exchanges and queues from it,
the in-process bus routes with the same bindings and the same matcher semantics, and
deploy/rabbitmq/definitions.json is generated from it (`python -m shared.messaging.topology`).
"""

import json
import sys
from dataclasses import dataclass, field
from functools import lru_cache

EXCHANGE = "cg.events"  # durable topic exchange for all events
DLX = "cg.dlx"  # direct exchange: routing key = the queue the message died in


@dataclass(frozen=True)
class QueueSpec:
    name: str
    service: str  # the service whose worker consumes it
    bindings: tuple[str, ...]
    # Handler failures are retried after these delays (TTL retry queues), then dead-lettered.
    retry_delays_ms: tuple[int, ...] = (1_000, 5_000, 30_000)
    # Returns without an ack before the broker dead-letters a message (a poison message that kills
    # workers). RabbitMQ also counts prefetched messages returned when a consumer disconnects,
    # so this is well above the number of restarts a healthy message could see.
    delivery_limit: int = 20

    @property
    def dlq(self) -> str:
        return f"{self.name}.dlq"

    def retry_queue(self, attempt: int) -> str:
        """Retry queue for the given failed attempt (1-based); the last delay repeats."""
        index = min(attempt, len(self.retry_delays_ms)) - 1
        return f"{self.name}.retry.{self.retry_delays_ms[index]}ms"

    @property
    def max_attempts(self) -> int:
        return len(self.retry_delays_ms) + 1


@dataclass(frozen=True)
class Topology:
    exchange: str = EXCHANGE
    dlx: str = DLX
    queues: tuple[QueueSpec, ...] = field(default_factory=tuple)

    def queues_for(self, service: str) -> list[QueueSpec]:
        return [q for q in self.queues if q.service == service]

    def route(self, key: str) -> list[QueueSpec]:
        """The queues a message with this routing key reaches (topic-exchange semantics)."""
        return [q for q in self.queues if any(topic_matches(b, key) for b in q.bindings)]

    def queue(self, name: str) -> QueueSpec:
        for q in self.queues:
            if q.name == name:
                return q
        raise KeyError(name)


# Every service keeps identity's revocations and API keys (shared/auth_state.py).
IDENTITY = "identity.*.*.v1"

# Bindings end in `.#` where an event of theirs may carry topic words after its version (Payload.topic_fields:
# intake.case.submitted.v1.<channel>.<route>), so they take it whatever the words. Grid and selfgov bind to
# the words they want: the broker keeps from them the cases they would only drop (issue 15: every submitted
# case cost each of them a delivery, a decode and an ack, and RabbitMQ a quorum-queue write and delivery).
# A deployment upgraded in place keeps its earlier exact bindings (declaring never unbinds): harmless, the
# handlers still drop what is not theirs (shared/messaging/dispatcher.py `only`).

TOPOLOGY = Topology(
    queues=(
        # identity: the last use of a government system's key, as each service saw it
        QueueSpec("identity.events", "identity", ("*.api_key.used.v1",)),
        # routing: new, reopened, withdrawn and evaluated cases; risk and outcomes of disputes; residents'
        # ratings, finished patrols and their findings recounted for the scores
        QueueSpec("routing.events", "routing", ("intake.case.*.v1.#", "mediation.#.v1", "selfgov.ratings.scored.v1",
                                                "grid.patrol.finished.v1", "grid.patrol.recounted.v1", IDENTITY)),
        # intake: the resident's view follows routing, mediation and what the resident was told
        QueueSpec("intake.events", "intake", ("routing.case.*.v1", "mediation.#.v1", "notify.message.*.v1",
                                              "selfgov.matter.*.v1", IDENTITY)),
        # mediation: disputes referred from intake, and their withdrawal
        QueueSpec("mediation.events", "mediation", ("intake.case.referred.v1", "intake.case.withdrawn.v1",
                                                    IDENTITY)),
        # notify: everything people may need to hear about, and the sign-in codes to send
        QueueSpec("notify.events", "notify", ("intake.#.v1.#", "routing.#.v1", "mediation.#.v1", "selfgov.#.v1",
                                              "grid.#.v1", IDENTITY)),
        # grid: the cases grid workers file (a patrol's findings, 自办自结): channel grid_patrol
        QueueSpec("grid.events", "grid", ("intake.case.submitted.v1.grid_patrol.*", IDENTITY)),
        # selfgov: 小事 cases become matters for the residents' consultation (route consultation), and their
        # withdrawal
        QueueSpec("selfgov.events", "selfgov", ("intake.case.submitted.v1.*.consultation", "intake.case.withdrawn.v1",
                                                IDENTITY)),
    )
)


def event_key(key: str) -> str:
    """The routing key (type.vN) of a key published with topic words after it: what logs and metrics name."""
    words = key.split(".")
    for i, word in enumerate(words):
        if word[:1] == "v" and word[1:].isdigit():
            return ".".join(words[:i + 1])
    return key


@lru_cache(maxsize=4096)
def topic_matches(binding: str, key: str) -> bool:
    """AMQP topic rules: dot-separated words; '*' is exactly one word, '#' zero or more."""
    pattern, words = binding.split("."), key.split(".")

    def match(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(words)
        if pattern[i] == "#":
            return any(match(i + 1, k) for k in range(j, len(words) + 1))
        if j == len(words):
            return False
        return pattern[i] in ("*", words[j]) and match(i + 1, j + 1)

    return match(0, 0)


def rabbitmq_definitions(topology: Topology = TOPOLOGY) -> dict:
    """RabbitMQ definitions (for `rabbitmqctl import_definitions` or the management plugin)."""
    exchanges = [
        {"name": topology.exchange, "vhost": "/", "type": "topic", "durable": True,
         "auto_delete": False, "internal": False, "arguments": {}},
        {"name": topology.dlx, "vhost": "/", "type": "direct", "durable": True,
         "auto_delete": False, "internal": False, "arguments": {}},
    ]
    queues, bindings = [], []
    for q in topology.queues:
        for name, args in queue_declarations(q, topology):
            queues.append({"name": name, "vhost": "/", "durable": True, "auto_delete": False,
                           "arguments": args})
        for b in q.bindings:
            bindings.append({"source": topology.exchange, "vhost": "/", "destination": q.name,
                             "destination_type": "queue", "routing_key": b, "arguments": {}})
        bindings.append({"source": topology.dlx, "vhost": "/", "destination": q.dlq,
                         "destination_type": "queue", "routing_key": q.name, "arguments": {}})
    return {"exchanges": exchanges, "queues": queues, "bindings": bindings}


def queue_declarations(q: QueueSpec, topology: Topology = TOPOLOGY) -> list[tuple[str, dict]]:
    """(name, arguments) of the main queue, its retry queues and its dead-letter queue."""
    decls = [
        (q.name, {
            "x-queue-type": "quorum",
            "x-delivery-limit": q.delivery_limit,
            "x-dead-letter-exchange": topology.dlx,
            "x-dead-letter-routing-key": q.name,
        }),
    ]
    for delay in sorted(set(q.retry_delays_ms)):
        # A retry queue holds a message for its TTL, then dead-letters it straight back
        # to the main queue through the default exchange.
        decls.append((f"{q.name}.retry.{delay}ms", {
            "x-queue-type": "quorum",
            "x-message-ttl": delay,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": q.name,
        }))
    decls.append((q.dlq, {"x-queue-type": "quorum"}))
    return decls


if __name__ == "__main__":
    json.dump(rabbitmq_definitions(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
