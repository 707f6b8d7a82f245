"""How personal data is shown to someone without the need to see it: one function per kind.

Every service masks with these, so a phone number looks the same (138****5678) wherever it
is shown masked.
"""

import phonenumbers


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
