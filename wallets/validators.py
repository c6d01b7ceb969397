import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class LatinLetterAndDigitValidator:
    """A password needs at least one Latin letter and at least one digit (seed 003)."""

    def validate(self, password, user=None):
        if not re.search(r"[A-Za-z]", password) or not re.search(r"[0-9]", password):
            raise ValidationError(
                _("The password must contain at least one Latin letter and one digit."),
                code="password_latin_digit",
            )

    def get_help_text(self):
        return _("Your password must contain at least one Latin letter and one digit.")
