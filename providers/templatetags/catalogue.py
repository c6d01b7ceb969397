import functools

from django import template
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.templatetags.static import static
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def static_or_empty(path: str) -> str:
    """The static URL of a logo or icon set in the admin; "" when the file is not collected
    (a typo in the admin must not break the catalogue page)."""
    if not path:
        return ""
    try:
        return static(path)
    except ValueError:
        return ""


@register.filter
def inline_icon(path: str) -> str:
    """The markup of a category's SVG icon (32×32, hidden from screen readers), put in the
    page so that the catalogue costs no request per icon; "" when it is not one of our
    static SVG files."""
    if not path or not path.endswith(".svg"):
        return ""
    return mark_safe(_icon_markup(path))  # noqa: S308 - our own static files, not user input


@functools.lru_cache(maxsize=64)
def _icon_markup(path: str) -> str:
    try:
        found = finders.find(path)
    except SuspiciousFileOperation:
        return ""
    if not found:
        return ""
    with open(found, encoding="utf-8") as file:
        svg = file.read().strip()
    if not svg.startswith("<svg "):
        return ""
    svg = svg.replace(' aria-hidden="true"', "")
    return svg.replace(
        "<svg ", '<svg width="32" height="32" aria-hidden="true" focusable="false" ', 1
    )
