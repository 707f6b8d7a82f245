"""Typed payloads registered by (type, version).

A message whose (type, version) is not registered, or whose data does not fit its model,
is rejected to the dead-letter queue by the consumer rather than crashing it.
"""

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from .envelope import Envelope, Subject


class UnknownEvent(Exception):
    """No payload model is registered for this (type, version)."""


class InvalidEvent(Exception):
    """The message is not an envelope, or its data does not fit the payload model."""


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    event_type: ClassVar[str]
    event_version: ClassVar[int]
    subject_kind: ClassVar[str]
    subject_field: ClassVar[str]
    # Fields whose values follow the routing key as further words on the bus (`topic`), so that a queue binds
    # to the events of a type it wants and the broker keeps the others from it (intake.case.submitted:
    # the channel and the route; grid hears the cases filed on patrol, selfgov the residents' matters).
    topic_fields: ClassVar[tuple[str, ...]] = ()


_REGISTRY: dict[tuple[str, int], type[Payload]] = {}


def event(event_type: str, version: int, *, subject: tuple[str, str]):
    """Register a payload model. `subject` names the aggregate kind and the field holding its id."""

    def register(cls: type[Payload]) -> type[Payload]:
        key = (event_type, version)
        if key in _REGISTRY:
            raise ValueError(f"event {event_type} v{version} registered twice")
        cls.event_type, cls.event_version = event_type, version
        cls.subject_kind, cls.subject_field = subject
        _REGISTRY[key] = cls
        return cls

    return register


def registered() -> dict[tuple[str, int], type[Payload]]:
    _load_catalogue()
    return dict(_REGISTRY)


def payload_model(event_type: str, version: int) -> type[Payload]:
    _load_catalogue()
    try:
        return _REGISTRY[(event_type, version)]
    except KeyError:
        raise UnknownEvent(f"unknown event {event_type} v{version}") from None


def envelope_for(
    payload: Payload, *, correlation_id: str | None = None, causation_id: str | None = None
) -> Envelope:
    return Envelope(
        type=payload.event_type,
        version=payload.event_version,
        source=payload.event_type.split(".", 1)[0],
        correlation_id=correlation_id,
        causation_id=causation_id,
        subject=Subject(kind=payload.subject_kind, id=str(getattr(payload, payload.subject_field))),
        data=payload.model_dump(mode="json"),
    )


def topic(envelope: Envelope) -> str:
    """The key the event is published with: its routing key (type.vN), then the values of its type's
    `topic_fields` as words (none when absent; a dot would split a word in two)."""
    key = envelope.routing_key
    _load_catalogue()
    model = _REGISTRY.get((envelope.type, envelope.version))
    for name in getattr(model, "topic_fields", ()):
        value = envelope.data.get(name)
        key += "." + ("none" if value in (None, "") else str(value).replace(".", "_"))
    return key


def decode(body: bytes) -> tuple[Envelope, Payload]:
    """Parse a message body into its envelope and typed payload.

    Raises UnknownEvent or InvalidEvent, nothing else: a validator that fails with another exception
    (an OverflowError converting a date to UTC, say) is a bad message too, not a reason to stop a consumer.
    """
    try:
        env = Envelope.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidEvent(f"not an event envelope: {_problems(exc)}") from None
    except Exception as exc:
        raise InvalidEvent(f"not an event envelope: {type(exc).__name__}") from None
    model = payload_model(env.type, env.version)
    try:
        return env, model.model_validate(env.data)
    except ValidationError as exc:
        raise InvalidEvent(f"{env.type} v{env.version}: bad data: {_problems(exc)}") from None
    except Exception as exc:
        raise InvalidEvent(f"{env.type} v{env.version}: bad data: {type(exc).__name__}") from None


def _problems(exc: ValidationError) -> str:
    # Where and what, never the offending values: they may be personal data and end up in DLQ headers.
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '-'}: {e['type']}" for e in exc.errors()[:5])


def _load_catalogue() -> None:
    # The payload modules register themselves on import; importing here keeps the
    # registry complete whichever module a process happened to import first.
    from . import catalogue  # noqa: F401
