"""Phone numbers: normalised with `phonenumbers` (masking is shared.masking.mask_phone)."""

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

