"""Phone numbers: normalised with `phonenumbers`, masked for everyone without a need to call."""

import phonenumbers


class BadPhone(ValueError):
    pass


def normalise(raw: str, region: str = "CN") -> str:
    """E.164 (+8613812345678) for a valid number, else BadPhone."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise BadPhone(raw) from None
    if not phonenumbers.is_valid_number(parsed):
        raise BadPhone(raw)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask(e164: str | None) -> str | None:
    """+8613812345678 → 138****5678 (the national number, middle four hidden)."""
    if not e164:
        return None
    try:
        national = str(phonenumbers.parse(e164, None).national_number)
    except phonenumbers.NumberParseException:
        return "****"
    if len(national) <= 7:
        return national[:2] + "****" + national[-1:]
    return national[:3] + "****" + national[-4:]
