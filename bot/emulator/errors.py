"""GitHub's error responses: `{"message", "documentation_url"[, "errors"][, "status"]}`."""

from __future__ import annotations

from typing import Any

DOCS = "https://docs.github.com/rest"


class ApiError(Exception):
    """Raised by operations and routes; the HTTP layer turns it into GitHub's error body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[Any] | None = None,
        documentation_url: str = DOCS,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.documentation_url = documentation_url
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message, "documentation_url": self.documentation_url}
        if self.errors is not None:
            out["errors"] = self.errors
        out["status"] = str(self.status)
        return out


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def validation_failed(resource: str, field: str, code: str = "invalid", **extra: Any) -> ApiError:
    """GitHub's 422 for a bad field: `{"message": "Validation Failed", "errors": [{...}]}`."""
    error = {"resource": resource, "field": field, "code": code, **extra}
    return ApiError(422, "Validation Failed", errors=[error])


def unprocessable(*messages: str) -> ApiError:
    """GitHub's 422 for a refused action: `{"message": "Unprocessable Entity", "errors": [...]}`."""
    return ApiError(422, "Unprocessable Entity", errors=list(messages))
