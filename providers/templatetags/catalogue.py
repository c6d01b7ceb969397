from django import template
from django.templatetags.static import static

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
