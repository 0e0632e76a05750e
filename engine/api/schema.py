"""The request body of POST /v1/chat/completions as a pydantic schema.

Fields OpenAI defines keep OpenAI's names, types and ranges; the reasoning extensions use the
names other servers established (`max_thinking_tokens`, llama.cpp's `thinking_budget_tokens` and
`reasoning_budget_message`). Unknown fields are accepted and ignored, as OpenAI-compatible
servers do, because clients send many optional ones (user, metadata, presence_penalty…).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.api.errors import ApiError, invalid

EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")


class ContentPart(BaseModel):
    """One part of a message's content; only text parts are supported."""

    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    """One message. Assistant messages may carry earlier reasoning, which is dropped."""

    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    def text(self, index: int) -> str:
        """The message's text; image, audio and file parts, and text that is not valid Unicode
        (JSON can carry lone surrogates), are refused."""
        text = self._joined(index)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise invalid(f"Message {index} is not valid Unicode (it holds a lone surrogate).",
                          param=f"messages.{index}.content") from None
        return text

    def _joined(self, index: int) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        parts = []
        for part in self.content:
            if part.type != "text" or part.text is None:
                raise invalid(f"Only text content is supported (message {index} has a '{part.type}' part).",
                              param=f"messages.{index}.content")
            parts.append(part.text)
        return "".join(parts)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class ChatCompletionBody(BaseModel):
    """What a client may send."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    n: int | None = None
    reasoning_effort: Literal[EFFORTS] | None = None  # type: ignore[valid-type]
    max_thinking_tokens: int | None = Field(default=None, ge=0)
    thinking_budget_tokens: int | None = Field(default=None, ge=0)
    reasoning_budget_message: str | None = Field(default=None, max_length=2000)
    tools: list[Any] | None = None
    logprobs: bool | None = None

    @field_validator("stop")
    @classmethod
    def _stops(cls, value: str | list[str] | None) -> list[str] | None:
        stops = [value] if isinstance(value, str) else value
        if stops is None:
            return None
        if len(stops) > 4:
            raise ValueError("at most 4 stop sequences are allowed")
        if any(not s for s in stops):
            raise ValueError("stop sequences must not be empty")
        return stops


def parse_body(data: object) -> ChatCompletionBody:
    """Validate a decoded JSON body; raises ApiError 400 naming the first bad field."""
    if not isinstance(data, dict):
        raise invalid("The request body must be a JSON object.")
    try:
        body = ChatCompletionBody.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        param = ".".join(str(part) for part in first["loc"]) or None
        raise invalid(f"Invalid value for '{param}': {first['msg']}.", param=param) from None
    if body.n not in (None, 1):
        raise invalid("Only n=1 is supported.", param="n")
    if body.tools:
        raise invalid("Tools are not supported by this server.", param="tools")
    if body.logprobs:
        raise invalid("logprobs are not supported by this server.", param="logprobs")
    return body


__all__ = ["EFFORTS", "ApiError", "ChatCompletionBody", "ChatMessage", "parse_body"]
