"""Large pasted text becomes an attached document, cut to what the model's context can take.

Plain Python: the composer decides with `should_attach`, the controller builds the prompt with
`Attachment.prompt_text` and shrinks it when the engine says the prompt does not fit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

#: Pastes longer than this become an attachment instead of text in the input box.
ATTACH_THRESHOLD_CHARS = 20_000
#: Characters per token assumed before the real tokenizer has had its say (generous on purpose:
#: the engine's ContextTooLongError tells us the exact numbers and we shrink again).
CHARS_PER_TOKEN = 4


def should_attach(text: str) -> bool:
    """True when a paste is too long to edit comfortably in the input box."""
    return len(text) > ATTACH_THRESHOLD_CHARS


@dataclass(frozen=True)
class Attachment:
    """A document attached to a question; `limit` is how many characters are sent."""

    name: str
    text: str
    limit: int | None = None
    #: A long paste turned into an attachment (else: handed over, e.g. a summary).
    pasted: bool = False

    @property
    def size_label(self) -> str:
        """'10.0 MB', '512 KB', '900 characters'."""
        size = len(self.text.encode("utf-8", "replace"))
        if size >= 1_000_000:
            return f"{size / 1_000_000:.1f} MB"
        if size >= 1_000:
            return f"{size / 1_000:.0f} KB"
        return f"{len(self.text)} characters"

    @property
    def truncated(self) -> bool:
        return self.limit is not None and self.limit < len(self.text)

    def fitted_to(self, context_tokens: int) -> Attachment:
        """At most what a context of this many tokens could hold."""
        return self.limited(context_tokens * CHARS_PER_TOKEN)

    def limited(self, chars: int) -> Attachment:
        chars = max(0, chars)
        current = len(self.text) if self.limit is None else self.limit
        return replace(self, limit=min(current, chars)) if chars < len(self.text) else self

    def shrunk(self, needed_tokens: int, available_tokens: int) -> Attachment | None:
        """Smaller so the prompt fits, from the engine's count; None when nothing is left."""
        current = len(self.text) if self.limit is None else self.limit
        over = needed_tokens - available_tokens
        # Remove the overflow's worth of characters at the document's own density, plus 10%.
        density = current / max(1, needed_tokens)
        new = int(current - over * density * 1.1) - 64
        return self.limited(new) if new > 0 else None

    def prompt_text(self) -> str:
        """The document as it goes to the model: delimited, with special-token text defused."""
        body = self.text if self.limit is None else self.text[: self.limit]
        body = body.replace("<|", "< |").replace("|>", "| >")
        note = "\n[The document was cut here to fit the model's context.]" if self.truncated else ""
        return f"<document name=\"{self.name}\">\n{body}{note}\n</document>"

    def notice(self) -> str:
        """What the user is told about what was sent."""
        if not self.truncated:
            return ""
        return (f"Only the first {self.limit:,} of {len(self.text):,} characters of {self.name} "
                "were sent: the rest does not fit the model's context.")


def with_attachment(question: str, attachment: Attachment | None) -> str:
    """The user message the model sees."""
    if attachment is None:
        return question
    return f"{question}\n\n{attachment.prompt_text()}" if question else attachment.prompt_text()
