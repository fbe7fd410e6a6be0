class NotFound(Exception):
    """The object does not exist, or belongs to someone the caller may not see."""


class RuleViolation(Exception):
    """A business rule refused the change; `field` names the form field it concerns."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message
