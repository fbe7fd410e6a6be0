class LabelSpecError(ValueError):
    """A sheet spec or option set that cannot print labels that work; the message says why."""
