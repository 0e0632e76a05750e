"""Token counts for a model on a remote server, checked against the server's own count.

The estimate (EstimateCounter) fits the large byte-level vocabularies that servers run, but a
model with a small vocabulary (the demo model: nearly a token a character) would overflow its
context by 2-3x. Before planning, one short probe measures it: the server's `usage.prompt_tokens`
(standard OpenAI, which every engine we know returns) for a sample of the text and for a bare
message; the difference is the sample's real size. The estimate is only ever scaled up. A
server that sends no usage (llama-cpp-python) gets the worst case, a token a UTF-8 byte, which
no tokenizer exceeds: slower (more, smaller steps) but never over the context.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

from engine.documents.model import Document
from engine.errors import CancelledError, PonderError
from engine.summarize.steps import ChatBackend, StepCounts, SummaryControl, run_step
from engine.summarize.tokens import EstimateCounter

log = logging.getLogger(__name__)

#: The probe sends at most context / SAMPLE_SHARE bytes: fits even at one token a byte.
SAMPLE_SHARE = 3


class ServedCounter(EstimateCounter):
    """EstimateCounter scaled by what the server measured (1.0 until calibrate() learns more)."""

    def __init__(self, context: int) -> None:
        self.context, self.scale = context, 1.0

    def count(self, text: str) -> int:
        return math.ceil(super().count(text) * self.scale)

    async def calibrate(self, backend: ChatBackend, documents: Sequence[Document], control: SummaryControl) -> None:
        """Raise the scale if the server counts more tokens than the estimate for a sample of the
        documents. Two one-token requests; a failure other than Stop keeps the estimate."""
        sample = _sample(documents, self.context // SAMPLE_SHARE)
        if not sample.strip():
            return
        try:  # no thinking budget: a budget of 1 would make some servers resume (a second request)
            bare, with_sample = StepCounts(), StepCounts()
            await run_step(backend, control, bare, prompt=".", thinking=None, max_new=1)
            await run_step(backend, control, with_sample, prompt=sample, thinking=None, max_new=1)
        except CancelledError:
            raise
        except PonderError as exc:
            log.info("token count probe failed (%s); keeping the estimate", exc)
            return
        measured = with_sample.prompt_tokens - bare.prompt_tokens
        estimated = EstimateCounter.count(self, sample)
        if bare.prompt_tokens <= 0 or with_sample.prompt_tokens <= 0:  # the server gave no usage
            self.scale = max(self.scale, float(self.BYTES_PER_TOKEN))
            log.info("the server reports no token usage; counting a token a byte")
        elif measured > estimated > 0:
            self.scale = max(self.scale, measured / estimated)
            log.info("the server counts %d tokens where the estimate said %d; scaling by %.2f",
                     measured, estimated, self.scale)


def _sample(documents: Sequence[Document], max_bytes: int) -> str:
    """The first max_bytes (UTF-8) of the documents' text, cut at a character boundary."""
    text = "\n\n".join(section.text for document in documents for section in document.sections)
    return text.encode("utf-8")[:max_bytes].decode("utf-8", "ignore")
