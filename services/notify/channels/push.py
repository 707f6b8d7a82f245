"""App push through a generic HTTP push provider.

POST {endpoint}/v1/messages with a bearer API key and {"token", "title", "body", "priority",
"data": {"message_id"}}; 2xx {"id"} accepted; 404/410 the device token is gone (permanent);
429 and 5xx transient. Vendors hold back non-urgent pushes 00:00–06:00: urgent ones are sent
with priority "high".
"""

import httpx

from ..config import PushConfig
from .base import Outgoing, Result, http_outcome


class PushChannel:
    def __init__(self, config: PushConfig, client: httpx.Client):
        self.config, self.client = config, client

    def send(self, batch: list[Outgoing]) -> list[Result]:
        return [self.send_one(m) for m in batch]

    def send_one(self, m: Outgoing) -> Result:
        try:
            response = self.client.post(
                f"{self.config.endpoint}/v1/messages", headers={"Authorization": f"Bearer {self.config.api_key}"},
                json={"token": m.address, "title": m.title, "body": m.body,
                      "priority": "high" if m.urgent else "normal", "data": {"message_id": m.message_id}})
        except httpx.HTTPError as exc:
            return Result("retry", reason=f"push: {type(exc).__name__}")
        if 200 <= response.status_code < 300:
            return Result("sent", provider_message_id=response.json().get("id"))
        return Result(http_outcome(response.status_code), reason=f"push: HTTP {response.status_code}")
