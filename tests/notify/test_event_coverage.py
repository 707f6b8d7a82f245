"""Issue 12: every intake, routing and mediation event type notify's queue receives is either told
about (rules.json `events`) or deliberately ignored (`ignored`, with the reason), and none of them, in
any shape its model allows, fails in the consumer (a failure is retried and ends in the dead-letter
queue, taking the digest and the webhooks with it)."""

import types
import typing
from datetime import date, datetime, timedelta
from itertools import product

import pydantic
from pydantic.fields import FieldInfo

from services.notify.config import load_config
from shared.events import Payload, registered
from shared.ids import unit_id
from shared.messaging.dispatcher import Outcome
from shared.messaging.topology import TOPOLOGY, topic_matches

from .conftest import deliver
from .payloads import AT, GRID

SUBSCRIBED = sorted((etype, version, cls) for (etype, version), cls in registered().items()
                    if any(topic_matches(b, f"{etype}.v{version}") for b in TOPOLOGY.queue("notify.events").bindings)
                    and not etype.startswith("identity."))


def test_every_event_type_notify_receives_is_told_about_or_deliberately_ignored():
    rules = load_config().rules
    undecided = [etype for etype, _, _ in SUBSCRIBED if etype not in rules.events and etype not in rules.ignored]
    assert undecided == []
    assert all(reason.strip() for reason in rules.ignored.values())
    known = {etype for etype, _, _ in SUBSCRIBED}
    assert set(rules.ignored) <= known  # no reason kept for an event that no longer exists


def sample(name: str, annotation, i: int):
    """A plausible value of one field: ids of seeded people and units, so the rules reach someone."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return sample(name, next(a for a in args if a is not type(None)), i)
    if origin is typing.Literal:
        return args[i % len(args)]
    if origin is list:
        return [sample(name.removesuffix("s"), args[0], i)] if args[0] is not int else [1]
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):  # a nested record
        return annotation(**{n: sample(n, f.annotation, i) for n, f in annotation.model_fields.items()
                             if f.is_required()})
    if annotation is bool:
        return bool(i % 2)
    if annotation is int:
        return 3
    if annotation is float:
        return 30.6
    if annotation is date:
        return AT.date()
    if annotation is datetime:
        return AT + timedelta(hours=1)
    if "unit_id" in name:
        return unit_id(GRID)
    if name in ("case_no", "dispute_no"):
        return "2026-11-000001"
    if name.endswith("_id") or name.endswith("_ids"):
        return "u-resident-1" if "party" in name or "requester" in name or "reporter" in name else "u-mediator-1"
    return "x"


def shapes(cls: type[Payload]) -> list[Payload]:
    """The model with every optional field left out, and with each choice of its Literal and bool fields,
    the optional fields given or left out."""
    fields: dict[str, FieldInfo] = cls.model_fields
    choices = {n: f for n, f in fields.items()
               if typing.get_origin(f.annotation) is typing.Literal or f.annotation is bool
               or typing.get_args(f.annotation)[:1] == (bool,)}
    widths = [len(typing.get_args(f.annotation)) if typing.get_origin(f.annotation) is typing.Literal else 2
              for f in choices.values()]
    out = [cls(**{n: sample(n, f.annotation, 0) for n, f in fields.items() if f.is_required()})]
    for combo, given in product(list(product(*[range(w) for w in widths]))[:24], (True, False)):
        values = {n: sample(n, f.annotation, 0) for n, f in fields.items() if given or f.is_required()}
        values.update({n: sample(n, f.annotation, k) for (n, f), k in zip(choices.items(), combo, strict=True)})
        out.append(cls(**values))
    return out


def test_no_event_in_any_shape_fails_in_notifys_consumer(rt):
    failures = []
    for etype, _, cls in SUBSCRIBED:
        for payload in shapes(cls):
            _, result = deliver(rt, payload)
            if result.outcome is not Outcome.ACK:
                failures.append(f"{etype}: {result.reason}")
    assert failures == []
