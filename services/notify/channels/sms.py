"""SMS through Alibaba Cloud SMS (dysmsapi 2017-05-25), RPC style with signature version 1.0.

Why not the official SDK (alibabacloud-dysmsapi20170525): it is maintained, but brings the Tea
runtime and its own HTTP stack for two calls; the RPC protocol is documented and short, and here
one pooled HTTP client is shared by the sender's threads. Protocol: every parameter (common ones:
AccessKeyId, Action, Format, RegionId, SignatureMethod=HMAC-SHA1, SignatureNonce,
SignatureVersion=1.0, Timestamp, Version) is percent-encoded (RFC 3986), sorted, joined;
StringToSign = METHOD & %2F & encode(joined); Signature = base64(HMAC-SHA1(secret + "&", it)).
"""

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

import httpx

from ..config import SmsConfig
from ..templates import Catalogue, TemplateError
from .base import Outgoing, Result, http_outcome

# Provider codes that will pass if we try later; any other non-OK code is permanent for that message.
TRANSIENT = {"isv.BUSINESS_LIMIT_CONTROL", "Throttling.User", "isp.SYSTEM_ERROR", "isp.RAM_PERMISSION_DENY",
             "isv.OUT_OF_SERVICE", "isv.AMOUNT_NOT_ENOUGH", "ServiceUnavailable", "InternalError"}


def percent_encode(value: str) -> str:
    return quote(str(value), safe="~")


def sign(params: dict[str, str], secret: str, method: str = "POST") -> str:
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSms:
    def __init__(self, config: SmsConfig, catalogue: Catalogue, client: httpx.Client):
        self.config, self.catalogue, self.client = config, catalogue, client

    def _call(self, action: str, params: dict[str, str]) -> tuple[int, dict]:
        common = {
            "AccessKeyId": self.config.access_key_id, "Action": action, "Format": "JSON",
            "RegionId": self.config.region, "SignatureMethod": "HMAC-SHA1", "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0", "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        form = {**common, **params}
        form["Signature"] = sign(form, self.config.access_key_secret)
        response = self.client.post(self.config.endpoint, data=form)
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, {}

    def send(self, batch: list[Outgoing]) -> list[Result]:
        """Messages of one template go out in SendBatchSms calls of up to `batch` numbers."""
        results: dict[str, Result] = {}
        groups: dict[str, list[tuple[Outgoing, dict]]] = {}
        for m in batch:
            try:
                code, params, _ = self.catalogue.sms(m.template, m.values)
            except TemplateError as exc:
                results[m.message_id] = Result("failed", reason=str(exc)[:200])
                continue
            groups.setdefault(code, []).append((m, params))
        for code, items in groups.items():
            for i in range(0, len(items), self.config.batch):
                chunk = items[i:i + self.config.batch]
                for (m, _), result in zip(chunk, self._send_chunk(code, chunk), strict=True):
                    results[m.message_id] = result
        return [results[m.message_id] for m in batch]

    def _send_chunk(self, code: str, chunk: list[tuple[Outgoing, dict]]) -> list[Result]:
        try:
            if len(chunk) == 1:
                m, params = chunk[0]
                status, body = self._call("SendSms", {
                    "PhoneNumbers": m.address, "SignName": self.config.sign_name, "TemplateCode": code,
                    "TemplateParam": json.dumps(params, ensure_ascii=False), "OutId": m.message_id})
            else:
                status, body = self._call("SendBatchSms", {
                    "PhoneNumberJson": json.dumps([m.address for m, _ in chunk]),
                    "SignNameJson": json.dumps([self.config.sign_name] * len(chunk), ensure_ascii=False),
                    "TemplateCode": code,
                    "TemplateParamJson": json.dumps([p for _, p in chunk], ensure_ascii=False)})
        except httpx.HTTPError as exc:
            return [Result("retry", reason=f"sms: {type(exc).__name__}")] * len(chunk)
        provider_code = body.get("Code")
        if provider_code == "OK":
            return [Result("sent", provider_message_id=body.get("BizId"))] * len(chunk)
        if provider_code is None:
            return [Result(http_outcome(status), reason=f"sms: HTTP {status}")] * len(chunk)
        outcome = "retry" if provider_code in TRANSIENT or status >= 500 else "failed"
        if outcome == "failed" and len(chunk) > 1:
            # SendBatchSms refuses the whole call for one bad number (e.g. isv.MOBILE_NUMBER_ILLEGAL):
            # send each on its own so only the bad one fails and the others still go.
            return [r for item in chunk for r in self._send_chunk(code, [item])]
        return [Result(outcome, reason=f"sms: {provider_code}")] * len(chunk)
