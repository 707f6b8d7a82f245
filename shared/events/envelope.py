"""The event envelope every message on the bus travels in.

Events carry ids, not personal data: a consumer looks up what it needs from the owner.
"""

import uuid
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Subject(BaseModel):
    kind: str
    id: str


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    type: str
    version: int = Field(ge=1)
    source: str
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    correlation_id: str | None = None
    causation_id: str | None = None
    subject: Subject
    data: dict

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        try:
            return value.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00:00+05:00 has no UTC instant; pydantic reports a ValueError
            raise ValueError("not representable in UTC") from None

    @property
    def routing_key(self) -> str:
        return routing_key(self.type, self.version)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


def routing_key(event_type: str, version: int) -> str:
    """`<source>.<entity>.<event>.v<major>`, e.g. intake.case.submitted.v1."""
    return f"{event_type}.v{version}"
