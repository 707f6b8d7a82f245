"""How personal data is shown to someone without the need to see it: one function per kind.

Every service masks with these, so a phone number looks the same (138****5678) wherever it
is shown masked.
"""

import re

import phonenumbers

# What a person types into free text that identifies someone: a mainland mobile or landline number,
# a resident ID number (18 characters, the last maybe X).
_FREE_PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
_FREE_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[- ]?(\d{7,8})(?!\d)")
_FREE_ID = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")


def mask_phone(value: str | None) -> str | None:
    """13812345678 or +8613812345678 → 138****5678: the national number, middle four hidden."""
    if not value:
        return None
    try:
        # The national format keeps a landline's trunk prefix (028 …), which national_number drops.
        shown = phonenumbers.format_number(phonenumbers.parse(value, "CN"), phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        shown = value
    digits = "".join(ch for ch in shown if ch.isdigit())
    if len(digits) >= 8:
        return digits[:3] + "****" + digits[-4:]
    if len(digits) >= 4:
        return digits[:2] + "****" + digits[-1:]
    return "****"


def mask_id_number(value: str | None) -> str | None:
    """A resident ID number: the first four and the last four, the birth date hidden."""
    if not value:
        return None
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_address(value: str | None) -> str | None:
    """Enough to recognise the neighbourhood, not the door."""
    if not value:
        return None
    return value[:6] + "****"


def mask_email(value: str | None) -> str | None:
    if not value:
        return None
    name, _, domain = value.partition("@")
    return f"{name[:1]}***@{domain}"


def mask_name(value: str | None) -> str | None:
    """张三丰 → 张**: the family name only."""
    if not value:
        return None
    return value[:1] + "*" * max(1, len(value) - 1)


def mask_free_text(text: str | None) -> str | None:
    """A description or note as someone without the need to know reads it: phone and ID numbers
    typed into it masked the same way as the fields that hold them."""
    if not text:
        return text
    text = _FREE_ID.sub(lambda m: m.group(1)[:4] + "*" * 10 + m.group(3), text)
    text = _FREE_PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    return _FREE_LANDLINE.sub(lambda m: f"{m.group(1)}****{m.group(2)[-4:]}", text)


def has_personal_data(text: str | None) -> bool:
    """Whether free text holds a phone or an ID number (flagged for review where it is stored)."""
    return bool(text) and mask_free_text(text) != text
