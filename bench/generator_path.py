"""og.Generator on its own worker thread: the GIL-holding alternative to og.Engine.

Used by bench/responsiveness.py to show why the engine uses og.Engine:
`Generator.append_tokens()` and `generate_next_token()` hold the GIL for their whole duration.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

FILLER = "What is 37 plus 45? Add the tens, then the ones, and carry when the ones pass nine. "


class GeneratorPath:
    """og.Generator on its own worker thread: the GIL-holding alternative to og.Engine."""

    def __init__(self, folder: Path, threads: int | None) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-generator")
        self._executor.submit(self._load, folder, threads).result()

    def _load(self, folder: Path, threads: int | None) -> None:
        import onnxruntime_genai as og

        config = og.Config(str(folder))
        config.clear_providers()
        if threads:
            config.overlay('{"model": {"decoder": {"session_options": {"intra_op_num_threads": %d}}}}' % threads)
        self.og, self.model = og, og.Model(config)
        self.tokenizer = og.Tokenizer(self.model)

    def calibrate(self, tokens: int) -> tuple[str, list[int]]:
        """A question whose rendered prompt is as close to `tokens` tokens as possible (<=)."""
        return self._executor.submit(self._calibrate, tokens).result()

    def _calibrate(self, tokens: int) -> tuple[str, list[int]]:
        from engine.prompt import ChatFormat, render_prompt
        from engine.request import ask

        text = FILLER * (tokens // 8 + 8)

        def ids_for(chars: int) -> list[int]:
            return self.tokenizer.encode(render_prompt(self.tokenizer, ask(text[:chars]), ChatFormat())).tolist()

        low, high = 1, len(text)
        while len(ids_for(high)) < tokens:  # a tokenizer that packs more text per token
            text += text
            high = len(text)
        while low < high:  # the longest question whose prompt fits in `tokens`
            mid = (low + high + 1) // 2
            if len(ids_for(mid)) <= tokens:
                low = mid
            else:
                high = mid - 1
        return text[:low], ids_for(low)

    async def run(self, ids: list[int], new_tokens: int, chunk: int | None) -> tuple[float, float, int, list[float]]:
        """Returns (submitted, first token) perf_counter times, tokens, step durations."""
        from engine.bridge import EventBridge

        bridge = EventBridge(asyncio.get_running_loop())
        submitted = time.perf_counter()
        future = self._executor.submit(self._turn, ids, new_tokens, chunk, bridge.put)
        async for _ in bridge:
            pass
        first, steps = await asyncio.wrap_future(future)
        return submitted, first, len(steps) + 1, steps

    def _turn(self, ids, new_tokens, chunk, put):
        import numpy as np

        from engine.events import AnswerDelta, Finished, FinishReason

        og = self.og
        params = og.GeneratorParams(self.model)
        params.set_search_options(max_length=len(ids) + new_tokens, do_sample=False, top_k=1)
        generator = og.Generator(self.model, params)
        prompt = np.asarray(ids, dtype=np.int32)
        step = chunk or len(prompt)
        for at in range(0, len(prompt), step):
            generator.append_tokens(prompt[at : at + step])  # holds the GIL for the whole call
        stream = self.tokenizer.create_stream()
        times = []
        for _ in range(new_tokens):
            generator.generate_next_token()  # holds the GIL for the whole step
            times.append(time.perf_counter())
            put(AnswerDelta(stream.decode(int(generator.get_next_tokens()[0]))))
        put(Finished(FinishReason.LENGTH, "", ""))
        del generator
        return times[0], [b - a for a, b in zip(times, times[1:])]

    def close(self) -> None:
        def drop() -> None:
            self.model = self.tokenizer = None

        self._executor.submit(drop).result()
        self._executor.shutdown(wait=True)
