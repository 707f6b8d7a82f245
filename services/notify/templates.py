"""Message templates, as data (data/templates.json): versioned, Chinese first with English beside it.

Checked when loaded, so a bad template stops the service at start rather than a message at
3 a.m.: every placeholder declared; SMS text within one 70-character segment including the
【signature】 with every variable at its longest; links fixed (no variable inside) and from the
allowed prefixes; WeChat pages fixed and fixed field values within the field limits.

A template may have an `email` section (subject and text, Chinese and English): the mail as sent,
rendered by the email channel from the message's values at send time, where the title and body
(what notify keeps) must not carry a value, such as a code mailed to prove an address.
"""

import re
import string
from dataclasses import dataclass
from functools import cached_property

SMS_SEGMENT = 70
# WeChat subscription message field types and their length limits (characters)
WECHAT_LIMITS = {"thing": 20, "phrase": 5, "name": 10, "character_string": 32, "number": 32, "letter": 32,
                 "symbol": 5, "time": 32, "date": 32, "amount": 32, "car_number": 8}
PERSONAL = [re.compile(p) for p in (r"1[3-9]\d{9}", r"\d{17}[\dXx]", r"[^@\s]+@[^@\s]+\.\w+")]
URL = re.compile(r"https?://[^\s，。]+")
SMS_VAR = re.compile(r"\$\{(\w+)\}")


class TemplateError(ValueError):
    """A template or its values break a rule; the text names the rule, never the values."""


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@dataclass(frozen=True)
class Template:
    code: str
    version: int
    category: str
    urgent: bool
    title: tuple[str, str]
    body: tuple[str, str]
    sms: dict | None
    wechat: dict | None
    email: dict | None = None  # {"subject": [zh, en], "text": [zh, en]}: the mail as sent, if not title and body

    @cached_property  # read for every message rendered
    def variables(self) -> set[str]:
        names = set().union(*(_fields(t) for t in (*self.title, *self.body)))
        if self.email:
            names |= set().union(*(_fields(t) for part in ("subject", "text") for t in self.email.get(part) or ()))
        if self.sms:
            names |= set(SMS_VAR.findall(self.sms["text"]))
        if self.wechat:
            names |= set().union(*(_fields(v) for v in self.wechat["data"].values()))
        return names


def wechat_kind(key: str) -> str:
    return key.rstrip("0123456789")


class Catalogue:
    def __init__(self, raw: dict, sign_name: str, allowed_links: list[str]):
        self.declared: dict[str, dict] = raw["variables"]
        self.clock_labels: dict[str, list[str]] = raw["clock_labels"]
        self.sign_name = sign_name
        self.allowed_links = allowed_links
        self.templates = {
            code: Template(code, t["version"], t["category"], t.get("urgent", False), tuple(t["title"]),
                           tuple(t["body"]), t.get("sms"), t.get("wechat"), t.get("email"))
            for code, t in raw["templates"].items()
        }
        for template in self.templates.values():
            self._check(template)

    def __getitem__(self, code: str) -> Template:
        return self.templates[code]

    def _check(self, t: Template) -> None:
        unknown = t.variables - set(self.declared)
        if unknown:
            raise TemplateError(f"{t.code}: undeclared variables {sorted(unknown)}")
        if t.sms:
            longest = SMS_VAR.sub(lambda m: "字" * self.declared[m.group(1)]["max_len"], t.sms["text"])
            length = len(f"【{self.sign_name}】") + len(longest)
            if length > SMS_SEGMENT:
                raise TemplateError(f"{t.code}: SMS may reach {length} characters, over one segment of {SMS_SEGMENT}")
            self._check_links(t.code, t.sms["text"])
        if t.wechat:
            if _fields(t.wechat["page"]) or "$" in t.wechat["page"]:
                raise TemplateError(f"{t.code}: the WeChat page must be fixed")
            for key, value in t.wechat["data"].items():
                kind = wechat_kind(key)
                if kind not in WECHAT_LIMITS:
                    raise TemplateError(f"{t.code}: unknown WeChat field type {key}")
                if not _fields(value) and len(value) > WECHAT_LIMITS[kind]:
                    raise TemplateError(f"{t.code}: WeChat field {key} over {WECHAT_LIMITS[kind]} characters")
        if t.email:
            for part in ("subject", "text"):
                if len(t.email.get(part) or ()) != 2:
                    raise TemplateError(f"{t.code}: the email {part} must be given in Chinese and English")
        for text in (*t.body, *(t.wechat["data"].values() if t.wechat else ()), *(t.email["text"] if t.email else ())):
            self._check_links(t.code, text)

    def _check_links(self, code: str, text: str) -> None:
        for url in URL.findall(text):
            if "{" in url or "$" in url:
                raise TemplateError(f"{code}: links must be fixed, no variables in them")
            if not any(url.startswith(prefix) for prefix in self.allowed_links):
                raise TemplateError(f"{code}: link outside the allowed prefixes")

    # -- rendering ---------------------------------------------------------------------------
    def _values(self, t: Template, values: dict, lang: str) -> dict[str, str]:
        out = {}
        for name in t.variables:
            if values.get(name) in (None, ""):
                raise TemplateError(f"{t.code}: variable {name} missing")
            value = str(values[name])
            if name == "clock":
                value = self.clock_labels.get(value, [value, value])[1 if lang == "en" else 0]
            rule = self.declared[name]
            if "pattern" in rule and not re.fullmatch(rule["pattern"], value):
                raise TemplateError(f"{t.code}: variable {name} does not match its pattern")
            out[name] = value
        return out

    def render(self, code: str, values: dict, lang: str = "zh") -> tuple[str, str]:
        """Title and body for the inbox, push and email, in the recipient's language."""
        t = self.templates[code]
        i = 1 if lang == "en" else 0
        vals = self._values(t, values, lang)
        return t.title[i].format(**vals), t.body[i].format(**vals)

    def email(self, code: str, values: dict, lang: str = "zh") -> tuple[str, str]:
        """Subject and text of the mail as sent, for a template with an email section."""
        t = self.templates[code]
        if not t.email:
            raise TemplateError(f"{code}: no email section")
        i = 1 if lang == "en" else 0
        vals = self._values(t, values, lang)
        return t.email["subject"][i].format(**vals), t.email["text"][i].format(**vals)

    def _short(self, t: Template, values: dict) -> dict[str, str]:
        # SMS and WeChat variables: at most their declared length, never personal data.
        vals = {k: _cut(v, self.declared[k]["max_len"]) for k, v in self._values(t, values, "zh").items()}
        for name, value in vals.items():
            if any(p.search(value) for p in PERSONAL):
                raise TemplateError(f"{t.code}: variable {name} looks like personal data")
        return vals

    def sms(self, code: str, values: dict) -> tuple[str, dict[str, str], str]:
        """(template code at the provider, its parameters, the text as the phone shows it)."""
        t = self.templates[code]
        if not t.sms:
            raise TemplateError(f"{code}: no SMS template")
        vals = self._short(t, values)
        params = {k: vals[k] for k in SMS_VAR.findall(t.sms["text"])}
        text = f"【{self.sign_name}】" + SMS_VAR.sub(lambda m: params[m.group(1)], t.sms["text"])
        return t.sms["code"], params, text

    def wechat(self, code: str, values: dict) -> tuple[str, str, dict[str, dict[str, str]]]:
        """(template id, page, data) with each field cut to its type's limit: the data is fixed, not retried."""
        t = self.templates[code]
        if not t.wechat:
            raise TemplateError(f"{code}: no WeChat template")
        vals = self._short(t, values)
        data = {}
        for key, text in t.wechat["data"].items():
            value = text.format(**vals)
            kind = wechat_kind(key)
            if kind == "character_string":
                value = re.sub(r"[^0-9A-Za-z_\-.:]", "", value)
            data[key] = {"value": _cut(value, WECHAT_LIMITS[kind])}
        return t.wechat["template_id"], t.wechat["page"], data


def _cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"

