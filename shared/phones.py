"""Phone numbers, normalised with `phonenumbers` to E.164 (+8613812345678) wherever they are
stored or compared; masking is shared.masking.mask_phone."""

import phonenumbers
from phonenumbers import PhoneNumberType

MOBILE = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


class BadPhone(ValueError):
    pass


def normalise(raw: str, region: str = "CN", *, mobile: bool = False) -> str:
    """E.164 for a valid number (only a mobile one with `mobile`: an SMS must reach it), else BadPhone."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise BadPhone(raw) from None
    if not phonenumbers.is_valid_number(parsed):
        raise BadPhone(raw)
    if mobile and phonenumbers.number_type(parsed) not in MOBILE:
        raise BadPhone(raw)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
