"""The HTTP side of a remote engine (httpx2, asyncio): list models, stream a chat completion.

Every transport failure leaves here as a typed RemoteError; nothing else in engine/remote/
knows about HTTP. Streaming uses asyncio so that cancelling the task that reads the stream
interrupts even a read that is waiting on a silent server, and closing the response closes the
TCP connection, which is how OpenAI-style servers learn to stop generating.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2

from engine.errors import (
    RemoteAuthError,
    RemoteError,
    RemoteModelNotServedError,
    RemoteRateLimitedError,
    RemoteServerError,
    RemoteStreamCutError,
    RemoteTimeoutError,
    RemoteTlsError,
    RemoteUnreachableError,
)
from engine.remote.endpoint import Endpoint


def ssl_context(endpoint: Endpoint) -> ssl.SSLContext:
    """Certificates verified always; against the given CA file, else the system's store."""
    if endpoint.base_url.startswith("http://"):
        # Never used (no redirects are followed); verifying, and trusting nothing. Loading the
        # system store costs ~0.3 s for nothing.
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if endpoint.ca_file:
        return ssl.create_default_context(cafile=endpoint.ca_file)
    return ssl.create_default_context()


class RemoteClient:
    """One endpoint's HTTP client. Create and use it on one asyncio loop; close() when done."""

    def __init__(self, endpoint: Endpoint, transport: httpx2.AsyncBaseTransport | None = None) -> None:
        self.endpoint = endpoint
        headers = {"Authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}
        self._http = httpx2.AsyncClient(
            base_url=endpoint.base_url.rstrip("/") + "/",
            headers=headers,
            verify=ssl_context(endpoint),
            timeout=httpx2.Timeout(endpoint.read_timeout_s, connect=endpoint.connect_timeout_s),
            trust_env=False,  # no proxy or netrc from the environment: only the configured address
            follow_redirects=False,
            transport=transport,
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def models(self) -> dict[str, Any]:
        """The server's /models reply (OpenAI shape: {"data": [{"id": …, "owned_by": …}]})."""
        async with self._request("GET", "models") as response:
            await response.aread()
            return _json_object(self.endpoint.base_url, response.text)

    async def check_model(self) -> dict[str, Any]:
        """The /models reply, after checking that it serves the endpoint's model."""
        reply = await self.models()
        served = tuple(str(m.get("id")) for m in reply.get("data") or [] if isinstance(m, dict))
        if self.endpoint.model not in served:
            raise RemoteModelNotServedError(self.endpoint.base_url, self.endpoint.model, served)
        return reply

    async def stream_chat(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Parsed chunks of a streamed chat completion, until `data: [DONE]` or the end."""
        body = {**body, "model": self.endpoint.model, "stream": True}
        url = self.endpoint.base_url
        async with self._request("POST", "chat/completions", json=body) as response:
            source = httpx2.EventSource(response)
            try:
                async for event in source:
                    if event.data.strip() == "[DONE]":
                        return
                    if not event.data.strip():
                        continue
                    try:
                        yield json.loads(event.data)
                    except ValueError:
                        raise RemoteServerError(url, response.status_code, f"not JSON: {event.data[:200]}") from None
            except httpx2.SSEError as exc:
                raise RemoteServerError(url, response.status_code, str(exc)) from None
            except httpx2.TimeoutException:
                raise RemoteTimeoutError(url, "text", self.endpoint.read_timeout_s) from None
            except (httpx2.RemoteProtocolError, httpx2.ReadError, httpx2.NetworkError) as exc:
                raise RemoteStreamCutError(url, _reason(exc)) from None

    @asynccontextmanager
    async def _request(self, method: str, path: str, **kwargs: Any) -> AsyncIterator[httpx2.Response]:
        url = self.endpoint.base_url
        try:
            async with self._http.stream(method, path, **kwargs) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise _status_error(self.endpoint, response)
                yield response
        except RemoteError:
            raise
        except httpx2.ConnectTimeout:
            raise RemoteTimeoutError(url, "connection", self.endpoint.connect_timeout_s) from None
        except httpx2.TimeoutException:
            raise RemoteTimeoutError(url, "reply", self.endpoint.read_timeout_s) from None
        except httpx2.ConnectError as exc:
            if isinstance(exc.__cause__, ssl.SSLError) or "CERTIFICATE" in str(exc).upper():
                raise RemoteTlsError(url, _reason(exc)) from None
            raise RemoteUnreachableError(url, _reason(exc)) from None
        except (httpx2.RemoteProtocolError, httpx2.ReadError, httpx2.WriteError) as exc:
            raise RemoteStreamCutError(url, _reason(exc)) from None
        except httpx2.HTTPError as exc:
            raise RemoteUnreachableError(url, _reason(exc)) from None


def _status_error(endpoint: Endpoint, response: httpx2.Response) -> RemoteError:
    url, status = endpoint.base_url, response.status_code
    if status in (401, 403):
        return RemoteAuthError(url, status)
    if status == 429:
        return RemoteRateLimitedError(url, _retry_after(response.headers.get("retry-after")))
    detail = _error_text(response.text)
    if status == 404 and "model" in detail.lower():
        return RemoteModelNotServedError(url, endpoint.model, ())
    return RemoteServerError(url, status, detail or response.reason_phrase)


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: not worth parsing for a message


def _error_text(text: str) -> str:
    """The message of an OpenAI-style error body, else the body's start."""
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip()[:300]
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return str(error.get("message", ""))[:300]
    if isinstance(error, str):
        return error[:300]
    if isinstance(data, dict) and "detail" in data:
        return str(data["detail"])[:300]
    return text.strip()[:300]


def _json_object(url: str, text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        raise RemoteServerError(url, None, f"not an OpenAI-compatible reply: {text[:200]}") from None
    if not isinstance(data, dict):
        raise RemoteServerError(url, None, "not an OpenAI-compatible reply")
    return data


def _reason(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    text = str(exc) or (str(cause) if cause else "")
    if not text.strip() and isinstance(exc, (httpx2.ReadError, httpx2.RemoteProtocolError)):
        return "the server closed the connection"
    return (text or type(exc).__name__).strip()[:200]
