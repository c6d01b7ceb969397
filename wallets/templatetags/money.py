from django import template
from django.utils.html import format_html

from wallets.money import format_som
from wallets.phones import format_number

register = template.Library()


@register.filter
def som(tyiyn):
    """{{ 123450|som }} → <span class="money">1 234,50 сом</span>"""
    if tyiyn is None or tyiyn == "":
        return ""
    return format_html('<span class="money">{}</span>', format_som(int(tyiyn)))


@register.filter
def phone(e164):
    return format_number(e164 or "")
