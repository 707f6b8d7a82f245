"""Offline-safe writes: a grid worker's phone queues its writes in stairwells and basements and replays
them when the signal returns (the grid service's writes, routing's work-order steps).

Every such write takes an `Idempotency-Key` (per user): the first request's answer is kept (sealed: it may
hold personal fields) and a replay gets it back, changing nothing; the same key with another request is 409
`idempotency.key_reused`. The key's row is written first, in a savepoint, so two replays racing each other
meet at its primary key: the second waits for the first to commit and then returns its answer.
A client timestamp (`client_at`) says when the act happened on the phone; it may be earlier than the
request, never later than the server's clock (plus a little skew).
"""

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Header
from fastapi.encoders import jsonable_encoder
from sqlalchemy import Integer, String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import UTCDateTime, utcnow
from .errors import ApiError, register_messages
from .sealed import Sealed

register_messages({
    "idempotency.key_reused": ("该幂等键已用于另一份不同的提交",
                               "This Idempotency-Key was used for a different submission"),
    "idempotency.key_invalid": ("幂等键格式不正确（1–100 个字符）", "Idempotency-Key must be 1–100 characters"),
    "offline.bad_time": ("客户端时间晚于服务器当前时间，请校准手机时间", "The client's time is later than now"),
})

# The header every offline-safe write reads (documented the same everywhere).
KeyHeader = Annotated[str | None, Header(
    alias="Idempotency-Key", max_length=100,
    description="幂等键（1–100 个字符）：离线排队的请求重放时返回首次的应答，不再改动；同一个键配不同内容返回 409 "
                "an offline write's key: a replay gets the first answer and changes nothing")]

SKEW = timedelta(minutes=5)  # a phone's clock a little ahead of the server's is not a lie


def idempotency_key_model(base, service: str):
    """The service's table of offline writes' keys (`idempotency_keys`), as a mapped class of `base`."""
    return type("IdempotencyKey", (base,), {
        "__tablename__": "idempotency_keys",
        "__doc__": "An offline write's Idempotency-Key: a replay returns the first answer and changes nothing.",
        "__annotations__": {"user_id": Mapped[str], "key": Mapped[str], "request_hash": Mapped[str],
                            "status": Mapped[int], "response": Mapped[str], "created_at": Mapped[datetime]},
        "user_id": mapped_column(String(64), primary_key=True),
        "key": mapped_column(String(100), primary_key=True),
        "request_hash": mapped_column(String(64)),
        "status": mapped_column(Integer),
        "response": mapped_column(Sealed(f"{service}.idempotency_keys.response")),
        "created_at": mapped_column(UTCDateTime, default=utcnow),
    })


def when(client_at: datetime | None, now: datetime | None = None, field: str = "client_at",
         code: str = "offline.bad_time") -> datetime:
    """The time of the act: the client's, if plausible; the server's when none was given."""
    now = now or utcnow()
    if client_at is None:
        return now
    if client_at > now + SKEW:
        raise ApiError(422, code, field=field)
    return client_at


def digest(op: str, target: str | None, body) -> str:
    payload = body.model_dump(mode="json") if hasattr(body, "model_dump") else body
    text = json.dumps({"op": op, "target": target, "body": payload}, sort_keys=True, ensure_ascii=False,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def check_key(key: str | None) -> None:
    if key is not None and not 1 <= len(key) <= 100:
        raise ApiError(400, "idempotency.key_invalid", field="Idempotency-Key")


def once(session: Session, model, user_id: str, key: str | None, op: str, target: str | None, body,
         act: Callable[[], object], status: int) -> tuple[int, object, bool]:
    """(status, answer, replayed): the act's answer, or the first answer given to this key."""
    if key is None:
        return status, jsonable_encoder(act()), False
    check_key(key)
    fingerprint = digest(op, target, body)
    earlier = session.get(model, (user_id, key))
    if earlier is None:
        try:
            with session.begin_nested():
                session.add(model(user_id=user_id, key=key, request_hash=fingerprint, status=0,
                                  response="null", created_at=utcnow()))
                session.flush()
        except IntegrityError:  # a replay racing the first request: the first committed meanwhile
            earlier = session.get(model, (user_id, key), populate_existing=True)
    if earlier is not None:
        if earlier.request_hash != fingerprint:
            raise ApiError(409, "idempotency.key_reused", field="Idempotency-Key")
        return earlier.status, json.loads(earlier.response), True
    answer = jsonable_encoder(act())
    row = session.get(model, (user_id, key))
    row.status, row.response = status, json.dumps(answer, ensure_ascii=False)
    return status, answer, False
