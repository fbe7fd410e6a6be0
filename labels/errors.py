class LabelSpecError(ValueError):
    """A sheet spec or option set that cannot print labels that work.

    The message says why in English, for logs and the command line. reason is a stable machine-readable word
    and numbers the values behind it (mm, counts), so that an application can say the same in its user's
    language; field names the spec attribute at fault (e.g. "margin_left"), or None when it is the whole spec.
    """

    def __init__(self, message: str, reason: str = "", field: str | None = None, **numbers: float):
        super().__init__(message)
        self.reason = reason
        self.field = field
        self.numbers = numbers
