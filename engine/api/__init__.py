"""Ponder's local OpenAI-compatible API (`ponder serve`, and Settings › Local API in the window).

Server library: aiohttp's web server. It runs on an event loop that already exists (AppRunner +
TCPSite start inside the window's qasync loop or the CLI's asyncio.run, where uvicorn wants to own
the loop and its signal handlers), streams server-sent events with a plain web.StreamResponse, can
cancel a handler when its client disconnects (handler_cancellation), caps body sizes itself
(client_max_size) and is a mature, widely used library with no framework on top. Starlette would
need uvicorn (or hypercorn) to serve, and FastAPI adds Starlette and a dependency-injection layer
this small API does not need; request bodies are validated with pydantic v2 directly.

Modules: server (routes, start/stop), guards (Host/Origin/key checks, errors), completions (one chat completion, streamed or
not), convert (OpenAI body → ChatRequest), schema (the request schema), security (key, Host,
CORS, bind rules), gate (the bounded request queue), sessions (which cached conversation a request
extends: prompt caching), stops (stop strings), errors (OpenAI-shaped errors), model (what is served,
from the engine host's state).
"""
