"""Domain errors: services raise them, HTML views turn them into messages or form errors and the
API turns them into its JSON error shape (peerhub.api.errors)."""


class DomainError(Exception):
    """A request the rules refuse. `code` is stable and machine-readable."""

    code = "invalid"
    status_code = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotAllowed(DomainError):
    """The member may not do this (yet): e.g. an unverified e-mail address."""

    code = "forbidden"
    status_code = 403


class Conflict(DomainError):
    code = "conflict"
    status_code = 409


class RateLimited(DomainError):
    """Too many of this action for now (e.g. the daily vote limit)."""

    code = "rate_limited"
    status_code = 429


class TooLarge(DomainError):
    """A request body over what the endpoint accepts."""

    code = "too_large"
    status_code = 413


class NotFound(DomainError):
    """Nothing there, or nothing the member may see (the same answer, so as to reveal nothing)."""

    code = "not_found"
    status_code = 404


class Gone(DomainError):
    """It was here and is no more (e.g. an expired data export)."""

    code = "gone"
    status_code = 410
