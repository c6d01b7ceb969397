"""What a provider's result code means to the payer, in the payer's language.

The codes are the OSMP protocol's (providers.gateways); `field_of` says which field of the
payment form a refusal belongs to (None: the form as a whole).
"""

from django.utils.translation import gettext_lazy as _

from providers import gateways as g

MESSAGES = {
    g.BAD_ACCOUNT_FORMAT: _("The provider does not accept this account format. Check the account."),
    g.ACCOUNT_NOT_FOUND: _("The provider has no such account. Check the account."),
    g.FORBIDDEN_BY_PROVIDER: _("The provider does not accept payments to this account."),
    g.FORBIDDEN_TECHNICAL: _(
        "The provider cannot accept payments now for technical reasons. Try again later."
    ),
    g.ACCOUNT_NOT_ACTIVE: _("This account is not active with the provider."),
    g.AMOUNT_TOO_SMALL: _("The amount is too small for the provider."),
    g.AMOUNT_TOO_LARGE: _("The amount is too large for the provider."),
    g.CANNOT_CHECK: _("The provider cannot check this account now. Try again later."),
    g.OTHER_ERROR: _("The provider refused the payment."),
}
UNAVAILABLE = _("The provider does not answer now. Try again in a few minutes.")

_FIELDS = {
    g.BAD_ACCOUNT_FORMAT: "account",
    g.ACCOUNT_NOT_FOUND: "account",
    g.ACCOUNT_NOT_ACTIVE: "account",
    g.CANNOT_CHECK: "account",
    g.AMOUNT_TOO_SMALL: "amount",
    g.AMOUNT_TOO_LARGE: "amount",
}


def message_for(code: int | None) -> str:
    """The payer's words for a final refusal (an unknown code reads as «refused»)."""
    if code is None:
        return str(MESSAGES[g.OTHER_ERROR])
    return str(MESSAGES.get(code, MESSAGES[g.OTHER_ERROR]))


def field_of(code: int | None) -> str | None:
    return _FIELDS.get(code)
