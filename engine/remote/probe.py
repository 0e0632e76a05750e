"""`ponder connections test`: list a server's models and time one token of the chosen model."""

from __future__ import annotations

import time
from dataclasses import dataclass

from engine.remote.capabilities import Capabilities, capabilities_for, detect_kind
from engine.remote.client import RemoteClient
from engine.remote.endpoint import Endpoint, check_endpoint


@dataclass(frozen=True)
class ProbeResult:
    """What a test of a connection found."""

    served: tuple[str, ...]
    capabilities: Capabilities
    #: Seconds from sending a one-token request to its first streamed text.
    first_token_s: float
    text: str

    def summary(self) -> str:
        note = self.capabilities.note()
        return (f"serves {', '.join(self.served)}; {self.capabilities.server.value} server; first token in "
                f"{self.first_token_s * 1000:.0f} ms" + (f". {note}" if note else ""))


async def probe(endpoint: Endpoint, server: str = "auto") -> ProbeResult:
    """Raises the same typed RemoteErrors as a chat would."""
    endpoint = check_endpoint(endpoint)
    client = RemoteClient(endpoint)
    try:
        reply = await client.check_model()
        served = tuple(str(m.get("id")) for m in reply.get("data") or [] if isinstance(m, dict))
        caps = capabilities_for(detect_kind(reply, endpoint.model, server))
        started = time.perf_counter()
        first: float | None = None
        text = ""
        body = {"messages": [{"role": "user", "content": "Say OK."}], "max_tokens": 1, "temperature": 0.0}
        async for chunk in client.stream_chat(body):
            delta = ((chunk.get("choices") or [{}])[0] or {}).get("delta") or {}
            piece = delta.get("content") or delta.get("reasoning_content") or delta.get("reasoning") or ""
            if piece and first is None:
                first = time.perf_counter() - started
            text += piece
        return ProbeResult(served, caps, first if first is not None else time.perf_counter() - started, text)
    finally:
        await client.close()
