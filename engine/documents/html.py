"""HTML to sections with the standard library's parser: one section per heading, scripts dropped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

from engine.documents.model import Section
from engine.documents.text import decode_text, plain_sections

_SKIP = {"script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object"}
_BLOCK = {"p", "div", "br", "li", "tr", "table", "section", "article", "blockquote", "pre", "ul", "ol",
          "dd", "dt", "figcaption", "header", "footer", "main", "nav", "aside", "hr"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_SPACES = re.compile(r"[ \t\f\v]+")


class _Collector(HTMLParser):
    """Collects (heading, text) pairs; text outside any heading goes under None."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[tuple[str | None, list[str]]] = [(None, [])]
        self.skip_depth = 0
        self.heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs) -> None:  # noqa: ANN001 - HTMLParser's signature
        if tag in _SKIP:
            self.skip_depth += 1
        elif tag in _HEADINGS and not self.skip_depth:
            self.heading = []
        elif tag in _BLOCK:
            self.parts[-1][1].append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in _HEADINGS and self.heading is not None:
            title = _SPACES.sub(" ", "".join(self.heading)).strip()
            self.heading = None
            if title:
                self.parts.append((title, [title, "\n"]))
        elif tag in _BLOCK:
            self.parts[-1][1].append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.heading is not None:
            self.heading.append(data)
        else:
            self.parts[-1][1].append(data)


def read_html(path: Path) -> Iterator[Section]:
    """An .html file."""
    collector = _Collector()
    collector.feed(decode_text(path.read_bytes(), path))
    collector.close()
    for heading, pieces in collector.parts:
        lines = [_SPACES.sub(" ", line).strip() for line in "".join(pieces).split("\n")]
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
        if not text:
            continue
        if heading is None:
            for section in plain_sections(text, unit="paragraphs"):
                yield Section(section.text, "beginning" if len(collector.parts) > 1 else section.label)
        else:
            yield Section(text, f"§ {heading}")
