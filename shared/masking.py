"""How personal data is shown to someone without the need to see it: one function per kind.

Every service masks with these, so a phone number looks the same (138****5678) wherever it
is shown masked.
"""

import re
import unicodedata

import phonenumbers

# What a person types into free text that identifies someone: a mainland mobile or landline number,
# a resident ID number (18 characters, the last maybe X, or the old 15 digits; the middle a birth
# date). They are looked for in the text as the eye reads it: full-width and other digits count as
# digits (NFKC), and any two digits may be apart by a few spaces (any width), hyphens, dots, commas,
# slashes, underscores, brackets, dashes or invisible characters ("139.1234.0001",
# "510107 19900101 1234", "1 3 8 1 2 3 4 5 6 7 8", "138（1234）5678"). No digit may touch the number
# on either side, and an ID number's date must be a date, so dates, case numbers and amounts mostly stay
# as they are, and the organisation's unit codes do (see _FREE_OLD_ID); a letter before an ID number does
# not hide it ("ID5101…").
_SEP = r"[\s\-./_,()\u00b7\u2010-\u2015\u200b-\u200d\u2060\ufeff]{0,4}"


def _run(n: int) -> str:
    """n digits, any two of them maybe apart by a separator."""
    return "[0-9]" + rf"(?:{_SEP}[0-9])" * (n - 1)


_MONTH_DAY = (rf"(?:0{_SEP}[1-9]|1{_SEP}[0-2]){_SEP}(?:0{_SEP}[1-9]|[12]{_SEP}[0-9]|3{_SEP}[01])")
_FREE_PHONE = re.compile(rf"(?<![0-9])(?:\+?8{_SEP}6{_SEP})?(1{_SEP}[3-9]{_SEP}[0-9]){_SEP}({_run(4)}){_SEP}"
                         rf"({_run(4)})(?![0-9])")
_FREE_LANDLINE = re.compile(rf"(?<![0-9])\(?(0[1-9][0-9]{{1,2}})\)?{_SEP}({_run(3)}(?:{_SEP}[0-9])?){_SEP}"
                            rf"({_run(4)})(?![0-9])")
_FREE_ID = re.compile(rf"(?<![0-9])({_run(6)}{_SEP}(?:1{_SEP}8|1{_SEP}9|2{_SEP}0){_SEP}{_run(2)}{_SEP}{_MONTH_DAY}"
                      rf"{_SEP}{_run(3)}{_SEP}[0-9Xx])(?![0-9])")
# An old 15-digit number's year (19YY) is taken from 1920 on: its holder born earlier would be over a hundred
# and five now, while the organisation's 15-digit unit codes (the region, a street or town 001-199, a
# community, a grid: 510107001001001) read as years 1900 to 1919 and are no one's personal data.
_FREE_OLD_ID = re.compile(rf"(?<![0-9])({_run(6)}{_SEP}[2-9]{_SEP}[0-9]{_SEP}{_MONTH_DAY}{_SEP}{_run(3)})(?![0-9])")


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit() or ch in "Xx")


# Most specific first: an ID number holds digits a phone pattern would also take.
_FREE_KINDS = (
    (_FREE_ID, lambda m: mask_id_number(_digits(m.group(1)))),
    (_FREE_OLD_ID, lambda m: mask_id_number(_digits(m.group(1)))),
    (_FREE_PHONE, lambda m: f"{_digits(m.group(1))}****{_digits(m.group(3))}"),
    (_FREE_LANDLINE, lambda m: f"{m.group(1)}****{_digits(m.group(3))}"),
)


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


def _as_read(text: str) -> tuple[str, list[int]]:
    """The text with every digit as an ASCII digit and every character in its NFKC form (full-width
    digits and punctuation, ideographic spaces), and for each character of it the position of the
    character of `text` it came from."""
    if text.isascii():
        return text, list(range(len(text)))
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if ch.isascii():
            chars.append(ch)
            origin.append(i)
            continue
        digit = unicodedata.decimal(ch, None)
        form = str(digit) if digit is not None else unicodedata.normalize("NFKC", ch)
        chars.extend(form)
        origin.extend([i] * len(form))
    return "".join(chars), origin


def mask_free_text(text: str | None) -> str | None:
    """A description or note as someone without the need to know reads it: phone and ID numbers
    typed into it masked the same way as the fields that hold them; every other character as it was."""
    if not text:
        return text
    read, origin = _as_read(text)
    found: list[tuple[int, int, str]] = []  # (start, end) in `text`, and what replaces it
    taken: list[tuple[int, int]] = []
    for pattern, masked in _FREE_KINDS:
        for m in pattern.finditer(read):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            taken.append((m.start(), m.end()))
            found.append((origin[m.start()], origin[m.end() - 1] + 1, masked(m)))
    if not found:
        return text
    out, at = [], 0
    for start, end, shown in sorted(found):
        out += [text[at:start], shown]
        at = end
    out.append(text[at:])
    return "".join(out)


def has_personal_data(text: str | None) -> bool:
    """Whether free text holds a phone or an ID number (flagged for review where it is stored)."""
    return bool(text) and mask_free_text(text) != text
