"""Account rules as data: a regular expression plus named checks.

A provider lists the named checks it needs in `Provider.account_validators`
("inn_date", "starts_00", ...). Each check takes the normalised account and returns
None when it passes or a message (in the current language) when it does not.
"""

import datetime
import re
from collections.abc import Callable
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wallets.digits import ascii_digits

_SEPARATORS = re.compile(r"[\s\-\u00a0]+")


def inn_date(value: str) -> str | None:
    """A 14-digit INN; a personal one (first digit 1 or 2) holds the birth date DDMMYYYY."""
    if not (len(value) == 14 and value.isascii() and value.isdigit()):
        return _("The INN has 14 digits.")
    if value[0] not in "12":
        return None  # an organisation's INN: no date of birth in it
    day, month, year = int(value[1:3]), int(value[3:5]), int(value[5:9])
    shown = f"{value[1:3]}.{value[3:5]}.{value[5:9]}"
    try:
        born = datetime.date(year, month, day)
    except ValueError:
        born = None
    if born is None or year < 1900 or born > timezone.localdate():
        return _("The date of birth in this INN (%(date)s) is not a real date.") % {"date": shown}
    return None


def starts_00(value: str) -> str | None:
    if not value.startswith("00"):
        return _("The code must start with 00.")
    return None


VALIDATORS: dict[str, Callable[[str], str | None]] = {
    "inn_date": inn_date,
    "starts_00": starts_00,
}

help_text = gettext_lazy(
    "Comma-separated named checks: inn_date (14-digit INN, the date in a personal INN is "
    "real), starts_00 (the value starts with 00)."
)


def split_names(text: str) -> list[str]:
    return [name.strip() for name in (text or "").split(",") if name.strip()]


def validate_names(text: str) -> None:
    unknown = [name for name in split_names(text) if name not in VALIDATORS]
    if unknown:
        raise ValidationError(
            gettext_lazy("Unknown checks: %(names)s. Known: %(known)s."),
            params={"names": ", ".join(unknown), "known": ", ".join(VALIDATORS)},
            code="unknown_validator",
        )


@lru_cache(maxsize=256)
def compile_rule(regex: str) -> re.Pattern:
    try:
        # re.ASCII: \d is 0-9, not every script's digits (accounts are typed in ASCII).
        return re.compile(regex, re.ASCII)
    except re.error as exc:
        raise ValueError(str(exc)) from None


def normalise(value) -> str:
    """Without spaces and dashes, every kind of digit as 0-9 (wallets.digits)."""
    return _SEPARATORS.sub("", ascii_digits(value))


def check_account(value, *, regex: str, names: list[str], hint: str) -> str:
    """The normalised account or ValidationError; the hint closes every message list."""
    account = normalise(value)
    hint = hint or _("Check the account and try again.")
    if not account:
        raise ValidationError([_("Enter the account."), hint], code="required")
    if len(account) > 64:
        raise ValidationError([hint], code="too_long")
    try:
        pattern = compile_rule(regex or r".+")
    except ValueError:
        pattern = compile_rule(r".+")
    problems = []
    if not pattern.fullmatch(account):
        problems.append(hint)
    for name in names:
        check = VALIDATORS.get(name)
        message = check(account) if check else None
        if message and message not in problems:
            problems.insert(0, message)
    if problems:
        if hint not in problems:
            problems.append(hint)
        raise ValidationError(problems, code="invalid_account")
    return account
