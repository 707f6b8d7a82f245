from .envelope import Envelope, Subject, routing_key
from .registry import InvalidEvent, Payload, UnknownEvent, decode, envelope_for, payload_model, registered, topic

__all__ = [
    "Envelope",
    "InvalidEvent",
    "Payload",
    "Subject",
    "UnknownEvent",
    "decode",
    "envelope_for",
    "payload_model",
    "registered",
    "routing_key",
    "topic",
]
