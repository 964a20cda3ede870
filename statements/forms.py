"""The base of every form: WTForms' own messages, translated with the rest of the site.

WTForms ships no Thai, Burmese or Malay, so its built-in messages ("This field is
required.") are listed here for extraction and translated in the site's own catalogues.
"""

from __future__ import annotations

from typing import Any

from flask_babel import get_translations, lazy_ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

# The WTForms messages the site's forms can show, word for word as WTForms writes them.
WTFORMS_MESSAGES = (
    _l("This field is required."),
    lazy_ngettext(
        "Field must be at least %(min)d character long.",
        "Field must be at least %(min)d characters long.",
        1,
    ),
    lazy_ngettext(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
        1,
    ),
    lazy_ngettext(
        "Field must be exactly %(max)d character long.",
        "Field must be exactly %(max)d characters long.",
        1,
    ),
    _l("Field must be between %(min)d and %(max)d characters long."),
    _l("Number must be at least %(min)s."),
    _l("Number must be at most %(max)s."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("Invalid input."),
    _l("Invalid Choice: could not coerce."),
    _l("Not a valid choice."),
    _l("Not a valid date value."),
    _l("Not a valid integer value."),
    _l("Invalid CSRF Token."),
    _l("CSRF token missing."),
    _l("CSRF failed."),
    _l("CSRF token expired."),
)


class _SiteTranslations:
    """WTForms' translation interface over the site's catalogue for this request."""

    def gettext(self, string: str) -> str:
        """Translate; WTForms fills in the values itself."""
        return str(get_translations().ugettext(string))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Translate a message with a count; WTForms fills in the values itself."""
        return str(get_translations().ungettext(singular, plural, n))


class Form(FlaskForm):
    """A Flask-WTF form whose built-in messages speak the reader's language."""

    class Meta(FlaskForm.Meta):
        """Use the site's catalogue for WTForms' messages."""

        def get_translations(self, form: Any) -> _SiteTranslations:
            """The site's translations, not WTForms' own."""
            return _SiteTranslations()
