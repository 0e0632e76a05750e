"""What a remote connection is, and which addresses Ponder will send prompts to.

Plain http carries the prompt and the API key in clear, so it is accepted only to this computer
(loopback), or to a private-network address when the user has confirmed it. Everything else
must be https, with the certificate verified (a custom CA file may be given).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from engine.errors import InsecureEndpointError

#: Host names that are private by construction (mDNS, RFC 8375, common home-router suffixes).
_PRIVATE_SUFFIXES = (".local", ".lan", ".home.arpa", ".internal", ".localdomain")


@dataclass(frozen=True)
class Endpoint:
    """An OpenAI-compatible server and the model to use on it."""

    base_url: str  # up to and including /v1, e.g. http://127.0.0.1:8080/v1
    model: str
    name: str = ""
    ca_file: str | None = None
    #: The user confirmed plain http to a private-network address.
    allow_private_http: bool = False
    api_key: str | None = field(default=None, repr=False)  # never printed, never saved in settings
    #: Seconds to wait for a connection and, while streaming, for the next chunk.
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 120.0

    @property
    def label(self) -> str:
        """How the window names where the model runs: 'name (host:port)'."""
        host = urlsplit(self.base_url).netloc
        return f"{self.name} ({host})" if self.name else host


def normalise_url(url: str) -> str:
    """The base URL with a trailing /v1 (added when the user gave only scheme://host:port)."""
    text = url.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InsecureEndpointError(url, "the address must start with http:// or https:// and name a host.")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise InsecureEndpointError(url, "the address must not carry a query, a fragment or a password.")
    if not parts.path:
        text += "/v1"
    return text


def check_endpoint(endpoint: Endpoint) -> Endpoint:
    """The endpoint with its URL normalised, or InsecureEndpointError saying why it is refused."""
    url = normalise_url(endpoint.base_url)
    parts = urlsplit(url)
    if parts.scheme == "http":
        where = address_kind(parts.hostname or "")
        if where == "public":
            raise InsecureEndpointError(url, "plain http would send your prompts and key in clear over "
                                        "the internet. Use https.")
        if where == "private" and not endpoint.allow_private_http:
            raise InsecureEndpointError(url, "plain http to another computer sends your prompts in clear "
                                        "on the local network. Use https, or confirm this private "
                                        "address (--allow-private-http, or the box in Settings).")
    if endpoint.ca_file is not None and not Path(endpoint.ca_file).is_file():
        raise InsecureEndpointError(url, f"the CA file {endpoint.ca_file} does not exist.")
    if not endpoint.model.strip():
        raise InsecureEndpointError(url, "a model name is needed (see 'ponder connections test').")
    return Endpoint(url, endpoint.model.strip(), endpoint.name, endpoint.ca_file, endpoint.allow_private_http,
                    endpoint.api_key, endpoint.connect_timeout_s, endpoint.read_timeout_s)


def address_kind(host: str) -> str:
    """'loopback', 'private' or 'public', from the name alone (no DNS lookup: that is a packet)."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return "loopback"
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        private = "." not in name or name.endswith(_PRIVATE_SUFFIXES)
        return "private" if private else "public"
    if ip.is_loopback:
        return "loopback"
    return "private" if (ip.is_private or ip.is_link_local) else "public"
