"""The resident identity card number (居民身份证号码) of GB 11643-1999 and its check character."""

import re

# GB 11643-1999 §7.2 (ISO 7064 MOD 11-2): the weight of each of the first 17 digits, 2^(18-i) mod 11.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# The check character for each remainder of the weighted sum mod 11; "X" stands for ten.
_CHECK = "10X98765432"


def valid_id_number(value: str) -> bool:
    """Whether `value` is 17 digits and the check character GB 11643-1999 (ISO 7064 MOD 11-2)
    computes from them. The check character "X" must already be upper-case: callers normalise."""
    # ASCII digits only: `\d` alone takes full-width ones (１２３), which would be kept as typed.
    if not re.fullmatch(r"\d{17}[\dX]", value, re.ASCII):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _WEIGHTS, strict=True))
    return _CHECK[total % 11] == value[17]
