"""What a service refuses with, and the one kind of message it refuses in."""
from flask_babel import gettext
from flask_babel.speaklater import LazyString
from markupsafe import Markup, escape


class LazyText(LazyString):
    """A message translated when it is shown, and always shown as text, never as markup.

    Flask-Babel's lazy strings declare themselves markup: their `__html__` returns the formatted message as
    it is, so Jinja, WTForms and Flask's session (which keeps a flashed message as Markup) would write the
    words a user typed into one of its parameters straight into the page. A LazyText escapes the whole
    formatted message instead; `str()` still gives the plain text (CSV, logs, comparisons).
    """

    def __html__(self) -> Markup:
        return escape(str(self))


def lazy_text(msgid: str, **params) -> LazyText:
    """A translatable message whose parameters may hold anyone's words (imported as `_l`, so that
    `pybabel extract -k _l` still finds it)."""
    return LazyText(gettext, msgid, **params)


def as_text(message) -> LazyText:
    """Any message (a str, Markup, or one of Flask-Babel's lazy strings) as text, still translated when shown."""
    if isinstance(message, LazyText):
        return message
    return LazyText(str, message)


class NotFound(Exception):
    """The object does not exist, or belongs to someone the caller may not see."""


class RuleViolation(Exception):
    """A business rule refused the change; `field` names the form field it concerns.

    Its message is always text (see LazyText), however the raiser built it: a page, a field error or a flash
    shows the user's words inside it escaped.
    """

    def __init__(self, field: str, message):
        message = as_text(message)
        super().__init__(message)
        self.field = field
        self.message = message
