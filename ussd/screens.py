"""Composing USSD screens that always fit the phone: 182 characters, prefix included.

A screen is an optional error line, the main text and the navigation lines ("0 Назад",
"00 Далее"). When the whole does not fit, the error is shortened first, then the
variable parts of the main text (names, hints) — never the menu digits or the prompt.
"""

from dataclasses import dataclass

from .texts import TEXTS, language_or_default

LIMIT = 182
PREFIX_LEN = 4  # "CON " / "END "
BODY_LIMIT = LIMIT - PREFIX_LEN
ELLIPSIS = "…"


@dataclass(frozen=True)
class Screen:
    body: str
    end: bool = False

    def render(self) -> str:
        return ("END " if self.end else "CON ") + self.body


def shorten(value: str, length: int) -> str:
    """`value` cut to `length` characters, an ellipsis marking the cut."""
    value = str(value)
    if len(value) <= length:
        return value
    if length <= 1:
        return ELLIPSIS[:length]
    return value[: length - 1].rstrip() + ELLIPSIS


def fill(key: str, language: str, budget: int, shrink: tuple[str, ...] = (), **values) -> str:
    """TEXTS[key] with `values`, shortening the `shrink` values until it fits `budget`.

    The values are shortened in the order given, each first down to 8 characters, then,
    only if that is not enough, further — so the first ones (a name) give way before the
    later ones (the account the payer checks).
    """
    template = TEXTS[key][language_or_default(language)]
    values = {name: str(value) for name, value in values.items()}
    out = template.format(**values)
    for floor in (8, 1):
        for name in shrink:
            over = len(out) - budget
            if over <= 0:
                return out
            if len(values[name]) > floor:
                values[name] = shorten(values[name], max(floor, len(values[name]) - over))
                out = template.format(**values)
    return out


def compose(main: str, *, error: str = "", nav: tuple[str, ...] = (), end: bool = False) -> Screen:
    """One screen: `error`, `main`, `nav` lines; the error is shortened to make room."""
    tail = "\n".join(line for line in (main, *nav) if line)
    if error:
        room = BODY_LIMIT - len(tail) - 1
        error = shorten(error, room) if room >= 12 else ""
    body = "\n".join(part for part in (error, tail) if part)
    return Screen(body=shorten(body, BODY_LIMIT), end=end)


def paginate(lines: list[str], *, reserved: int) -> list[list[str]]:
    """Split menu lines into pages, each fitting BODY_LIMIT - `reserved` characters."""
    room = BODY_LIMIT - reserved
    pages: list[list[str]] = [[]]
    used = 0
    for line in lines:
        line = shorten(line, min(room - 1, 48))
        cost = len(line) + 1
        if pages[-1] and used + cost > room:
            pages.append([])
            used = 0
        pages[-1].append(line)
        used += cost
    return pages
