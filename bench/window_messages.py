"""Window responsiveness while messages are added and streamed: how late a 5 ms timer on the
window's own (qasync) event loop runs, bench/responsiveness.py's approach applied to the chat.

The real window (app.main.build_app, offscreen or on a display) gets N exchanges, each added as
the controller adds one (exchange_added), then streamed in small thinking and answer deltas at
about 60 updates a second (exchange_updated), then finished. A control ticker in another process
gives the machine's own share of lateness. Also reported: the time to build one exchange.

    QT_QPA_PLATFORM=offscreen python -m bench.window_messages [--exchanges 30]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from bench.common import median, percentile
from bench.lateness import ControlTicker, Phase, Ticker

THINKING = "ones: 7+5=12, write 2, carry 1. tens: 3+4+1=8, write 8. 37+45=82. "
ANSWER = "The answer is **82**. Check: $82 - 45 = 37$, so the sum is right."


async def drive(app, exchanges: int, frame_s: float) -> list[float]:
    """Add and stream `exchanges` exchanges through the chat view; returns build times (ms)."""
    from app.chat.conversation import Exchange
    from engine.events import AnswerDelta, Finished, FinishReason, Stats, ThinkingDelta

    view, conversation = app.window.chat, app.controller.conversation
    builds = []
    for n in range(exchanges):
        exchange = Exchange(f"What is {n} plus {n + 1}?")
        exchange.reply.start()
        conversation.exchanges.append(exchange)
        start = time.perf_counter()
        view.exchange_added(exchange)
        builds.append((time.perf_counter() - start) * 1000)
        await asyncio.sleep(frame_s)
        for i in range(0, len(THINKING), 12):
            exchange.reply.apply(ThinkingDelta(THINKING[i:i + 12]))
            exchange.reply.apply(Stats(thinking_tokens=i // 3))
            view.exchange_updated(exchange)
            await asyncio.sleep(frame_s)
        for i in range(0, len(ANSWER), 10):
            exchange.reply.apply(AnswerDelta(ANSWER[i:i + 10]))
            view.exchange_updated(exchange)
            await asyncio.sleep(frame_s)
        exchange.reply.apply(Finished(FinishReason.STOP, THINKING, ANSWER, Stats(thinking_tokens=30, answer_tokens=20)))
        view.exchange_updated(exchange)
        await asyncio.sleep(frame_s)
    return builds


async def main_async(args, app) -> None:
    ticker = Ticker()
    control = ControlTicker()
    tick = asyncio.ensure_future(ticker.run())
    await asyncio.sleep(3.0)  # the window is up a few seconds before a first answer (model load, typing)
    idle_end = time.perf_counter()
    builds = await drive(app, args.exchanges, 1 / 60)
    end = time.perf_counter()
    ticker.running = False
    await tick
    samples = await control.stop()
    begin = ticker.samples[0][0]
    print(f"exchanges: {args.exchanges}   build one exchange: median {median(builds):.1f} ms, "
          f"p99 {percentile(builds, 99):.1f} ms, max {max(builds):.1f} ms")
    print("idle      ", Phase.of(ticker.samples, begin, idle_end).line())
    print("messages  ", Phase.of(ticker.samples, idle_end, end).line())
    print("control   ", Phase.of(samples, idle_end, end).line())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchanges", type=int, default=30)
    args = parser.parse_args(argv)
    import qasync
    from PySide6.QtWidgets import QApplication

    from app.main import build_app
    from engine.paths import resolve_paths

    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as home:
        paths = resolve_paths(data_dir=Path(home))
        paths.ensure()
        app = build_app(qapp, paths)
        app.window.resize(1040, 760)
        app.window.show()
        loop = qasync.QEventLoop(qapp)
        asyncio.set_event_loop(loop)
        with loop:
            loop.run_until_complete(main_async(args, app))
        app.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
