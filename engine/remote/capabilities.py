"""What a server can do about thinking budgets and "Answer now", and the request fields for it.

Ponder's local engine ends the thinking itself when the budget is spent. A remote server can do
that only if it offers a way; where it offers none, the turn runs to the server's own limits and
the window says so ("the budget is the server's") instead of pretending.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from engine.request import ChatRequest


class ServerKind(enum.Enum):
    """Which serving engine answers, as far as its /v1/models reply (or the user) tells."""

    LLAMA_CPP = "llama.cpp"  # llama.cpp's own llama-server
    LLAMA_CPP_PYTHON = "llama-cpp-python"  # `python -m llama_cpp.server`
    VLLM = "vllm"
    PONDER = "ponder"  # another machine's `ponder serve`
    OLLAMA = "ollama"
    OPENAI = "openai"  # anything else that speaks the OpenAI chat API


class BudgetMode(enum.Enum):
    """How a thinking budget is enforced on this server."""

    SERVER_FIELD = "server_field"  # a request field the server enforces (llama.cpp, ponder serve)
    RESUME = "resume"  # Ponder counts, closes the stream and resumes with </think> (vLLM)
    SERVERS_OWN = "servers_own"  # nothing offered: the budget is the server's


@dataclass(frozen=True)
class Capabilities:
    """A typed flag set the window shows (e.g. "the budget is the server's; Stop ends a turn")."""

    server: ServerKind
    budget: BudgetMode
    #: Ponder can end the thinking mid-turn and get the answer (by resuming the assistant message).
    answer_now: bool

    def note(self) -> str:
        """What the thinking pane says about budget and Answer now on this server ('' if all works)."""
        if self.budget is BudgetMode.SERVERS_OWN:
            return ("The thinking budget is the server's: Ponder cannot cut the thinking on this "
                    "server. Use Stop to end a turn.")
        if not self.answer_now:
            return "Answer now is not available on this server; use Stop to end a turn."
        return ""


_BY_KIND = {
    ServerKind.LLAMA_CPP: Capabilities(ServerKind.LLAMA_CPP, BudgetMode.SERVER_FIELD, answer_now=True),
    ServerKind.VLLM: Capabilities(ServerKind.VLLM, BudgetMode.RESUME, answer_now=True),
    ServerKind.PONDER: Capabilities(ServerKind.PONDER, BudgetMode.SERVER_FIELD, answer_now=False),
    ServerKind.LLAMA_CPP_PYTHON: Capabilities(ServerKind.LLAMA_CPP_PYTHON, BudgetMode.SERVERS_OWN, False),
    ServerKind.OLLAMA: Capabilities(ServerKind.OLLAMA, BudgetMode.SERVERS_OWN, answer_now=False),
    ServerKind.OPENAI: Capabilities(ServerKind.OPENAI, BudgetMode.SERVERS_OWN, answer_now=False),
}

#: /v1/models `owned_by` values of the engines we know.
_OWNERS = {
    "vllm": ServerKind.VLLM,
    "llamacpp": ServerKind.LLAMA_CPP,
    "me": ServerKind.LLAMA_CPP_PYTHON,
    "ponder": ServerKind.PONDER,
    "library": ServerKind.OLLAMA,
    "ollama": ServerKind.OLLAMA,
}


def capabilities_for(kind: ServerKind) -> Capabilities:
    return _BY_KIND[kind]


def detect_kind(models_reply: dict[str, Any], model: str, override: str = "auto") -> ServerKind:
    """The server kind: the user's override, else guessed from the served model's `owned_by`."""
    if override and override != "auto":
        return ServerKind(override)
    for entry in models_reply.get("data") or []:
        if isinstance(entry, dict) and entry.get("id") == model:
            owner = str(entry.get("owned_by", "")).lower()
            if owner.startswith("ponder"):
                return ServerKind.PONDER
            return _OWNERS.get(owner, ServerKind.OPENAI)
    return ServerKind.OPENAI


def budget_fields(caps: Capabilities, request: ChatRequest) -> dict[str, Any]:
    """Extra request fields that make the server enforce the request's thinking budget, with its
    closing line (the user's, from Settings; none when it is off), and skip the thinking where
    the request wants none and the server can be told so."""
    budget_tokens, message = request.budget.tokens, request.budget_message
    if caps.server is ServerKind.PONDER:
        if no_thinking(request):
            return {"max_thinking_tokens": 0}  # it cannot resume a message, but takes a zero budget
        # `ponder serve` applies its "medium" effort when a request names no budget.
        if budget_tokens is None:
            return {"reasoning_effort": "xhigh"}
        return {"max_thinking_tokens": budget_tokens} | ({"reasoning_budget_message": message} if message else {})
    if budget_tokens is None or caps.budget is not BudgetMode.SERVER_FIELD:
        return {}
    if caps.server is ServerKind.LLAMA_CPP:
        return {"thinking_budget_tokens": budget_tokens} | ({"thinking_budget_message": message} if message else {})
    return {}


def no_thinking(request: ChatRequest) -> bool:
    """The request closes the thinking before it starts (effort "none", as chat titles ask)."""
    return request.resume_thinking == "" and request.close_thinking


def skips_thinking(caps: Capabilities) -> bool:
    """Whether a no-thinking request gets no thinking here: by resuming a closed thinking, or
    (`ponder serve`) by a zero budget. Elsewhere a reasoning model thinks first."""
    return caps.answer_now or caps.server is ServerKind.PONDER


def resume_fields(caps: Capabilities) -> dict[str, Any]:
    """Fields that make the server continue the last (assistant) message instead of answering it."""
    if caps.server is ServerKind.VLLM:
        return {"continue_final_message": True, "add_generation_prompt": False}
    return {}  # llama-server continues a trailing assistant message by default (prefill)
