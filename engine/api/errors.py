"""Errors in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}` with an HTTP status.

Every failure the server reports goes through ApiError, so clients (and the official `openai`
package) see the same structure OpenAI sends. Messages never quote the prompt.
"""

from __future__ import annotations

import json

from aiohttp import web

from engine.errors import BadRequestError, ContextTooLongError, PonderError


class ApiError(Exception):
    """A failure answered with `status` and an OpenAI error object."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type = status, message, type
        self.code, self.param, self.headers = code, param, headers or {}

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def response(self) -> web.Response:
        return web.Response(status=self.status, text=json.dumps(self.body()),
                            content_type="application/json", headers=self.headers)


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> ApiError:
    """400 invalid_request_error."""
    return ApiError(400, message, param=param, code=code)


def from_engine(error: PonderError) -> ApiError:
    """An engine error as the API reports it."""
    if isinstance(error, ContextTooLongError):
        return ApiError(400, error.user_message(), code="context_length_exceeded", param="messages")
    if isinstance(error, BadRequestError):
        return invalid(error.user_message())
    return ApiError(500, error.user_message(), type="server_error", code="engine_failure")


def loading() -> ApiError:
    """503 while the model loads (clients retry)."""
    return ApiError(503, "The model is still loading; try again in a few seconds.",
                    type="server_error", code="model_loading", headers={"Retry-After": "2"})
