"""Numbers as people type them: every kind of decimal digit becomes 0-9 before validation.

A phone keyboard may type Arabic-Indic (٠١٢), Persian (۰۱۲) or full-width (０１２) digits;
`\\d`, str.isdigit() and int() all accept them, so without this they passed the account
rules and reached a provider's registry as typed. Everything a person types as a number
(account, amount, phone number, code, USSD input) goes through `ascii_digits` first, and
the rules then match ASCII only (`[0-9]`, re.ASCII).
"""

import unicodedata

# Full-width forms of ASCII (＋, －, ，, ．, （ ...): U+FF01..U+FF5E are U+0021..U+007E.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
# Arabic decimal and thousands separators, the Arabic comma.
_SEPARATORS = {0x066B: ",", 0x066C: " ", 0x060C: ","}


def ascii_digits(value) -> str:
    """`value` as text with every Unicode decimal digit as its ASCII digit and full-width
    punctuation as ASCII; anything else is left as it is."""
    text = str(value if value is not None else "")
    if text.isascii():
        return text
    text = text.translate(_FULL_WIDTH).translate(_SEPARATORS)
    return "".join(
        str(unicodedata.decimal(char)) if not char.isascii() and char.isdecimal() else char
        for char in text
    )
