"""The middlewares every request passes: Host, Origin and key checks, size limits, OpenAI-shaped errors.

Order: `errors` (outermost) turns any ApiError or aiohttp HTTP error into OpenAI's error object;
`guard` refuses foreign Host headers (DNS rebinding), foreign origins (CORS, including "simple"
cross-site POSTs that skip preflight), missing keys and oversized bodies before any route runs.
"""

from __future__ import annotations

import logging

from aiohttp import web

from engine.api.errors import ApiError
from engine.api.security import ServerConfig

log = logging.getLogger(__name__)

#: CORS preflight answers for allowed origins.
CORS_METHODS = "GET, POST, OPTIONS"
CORS_HEADERS = "Authorization, Content-Type"
#: Paths a client may call without the key (it reveals only whether the model is ready).
OPEN_PATHS = frozenset({"/health"})


class Guards:
    """The middlewares and the CORS response hook for one ServerConfig."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config

    @web.middleware
    async def errors(self, request: web.Request, handler):
        try:
            return await handler(request)
        except ApiError as error:
            return error.response()
        except web.HTTPRequestEntityTooLarge:
            return self.too_large().response()
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status)
            return ApiError(exc.status, exc.reason, code=code).response()

    @web.middleware
    async def guard(self, request: web.Request, handler):
        config = self.config
        if not config.host_allowed(request.headers.get("Host")):
            log.warning("refused a request with a foreign Host header")
            raise ApiError(403, "This server only answers requests addressed to it by its own address "
                                "(the Host header is not allowed).", type="permission_error", code="host_not_allowed")
        origin = request.headers.get("Origin")
        if origin is not None and not config.origin_allowed(origin):
            raise ApiError(403, "Cross-origin requests are not allowed (start the server with "
                                "--allow-origin for this origin).", type="permission_error",
                           code="origin_not_allowed")
        if request.method == "OPTIONS":
            if origin is None:
                raise ApiError(405, "OPTIONS is only for CORS preflight.", code="method_not_allowed")
            return web.Response(status=204)  # the CORS headers are added by cors_headers
        if request.path not in OPEN_PATHS and not config.key_matches(request.headers.get("Authorization")):
            raise ApiError(401, "Incorrect or missing API key (send it as 'Authorization: Bearer KEY').",
                           code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})
        if request.content_length is not None and request.content_length > config.max_body_bytes:
            raise self.too_large()
        return await handler(request)

    async def cors_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        """on_response_prepare: CORS headers only for an explicitly allowed origin."""
        origin = request.headers.get("Origin")
        if origin is not None and self.config.origin_allowed(origin):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
            if request.method == "OPTIONS":
                response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
                response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
                response.headers["Access-Control-Max-Age"] = "600"

    def too_large(self) -> ApiError:
        mib = self.config.max_body_bytes / (1024 * 1024)
        return ApiError(413, f"The request body is too large (at most {mib:g} MiB).", code="request_too_large")
