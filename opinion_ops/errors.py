"""Errors a service raises for things a user or client did; views and the API turn them into
a translated message next to the field (HTML) or a structured 4xx (API). Never a 500."""

from django.utils.functional import Promise


class DomainError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, message: str | Promise, field: str | None = None, code: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotPermitted(DomainError):
    status_code = 403
    code = "permission_denied"


class InvalidTransition(DomainError):
    status_code = 409
    code = "invalid_transition"


class StaleObject(DomainError):
    status_code = 409
    code = "stale"


class SecondFactorRequired(DomainError):
    """A sensitive action needs a second factor verified more recently (accounts.stepup): pages send
    the person to the verify page and back, the API answers 403 with this code."""

    status_code = 403
    code = "second_factor_required"
