"""Answer Markdown → HTML for a QTextBrowser: headings, lists, tables, highlighted code with a
copy link, and LaTeX math as images.

Qt-free. Model output is untrusted: raw HTML is disabled, images become links (nothing is ever
fetched), and every text is escaped by markdown-it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from app.markdown.math import MathImage, normalise_tex

#: Resource names the view resolves: "math:<key>" images and "copy:<n>" code copy links.
MATH_SCHEME = "math"
COPY_SCHEME = "copy"


@dataclass(frozen=True)
class MarkdownColors:
    """The few colours the HTML needs (from the theme)."""

    text: str = "#1f2328"
    muted: str = "#656d76"
    link: str = "#0969da"
    border: str = "#d0d7de"
    code_bg: str = "#f6f8fa"
    inline_code_bg: str = "#eff1f3"
    header_bg: str = "#eaeef2"
    pygments_style: str = "friendly"


@dataclass
class Rendered:
    """HTML plus what the view needs to serve it: code for the copy links, math images."""

    html: str
    code_blocks: list[str] = field(default_factory=list)
    images: dict[str, MathImage] = field(default_factory=dict)


#: Looks up a rendered formula; None when it is not ready (or cannot be drawn).
MathLookup = Callable[[str, bool], MathImage | None]

_BRACKET_MATH = re.compile(r"\\\[(.+?)\\\]|\\\((.+?)\\\)", re.S)
_CODE_SPLIT = re.compile(r"(```.*?(?:```|$)|~~~.*?(?:~~~|$)|`[^`\n]*`)", re.S)


def brackets_to_dollars(text: str) -> str:
    r"""\[…\] → $$…$$ and \(…\) → $…$, outside code (markdown would eat the backslashes)."""
    parts = _CODE_SPLIT.split(text)
    for i in range(0, len(parts), 2):
        parts[i] = _BRACKET_MATH.sub(
            lambda m: f"$${m.group(1)}$$" if m.group(1) is not None else f"${m.group(2)}$", parts[i]
        )
    return "".join(parts)


class MarkdownRenderer:
    """Renders one answer at a time; cheap enough to run every ~100 ms while streaming."""

    def __init__(self, colors: MarkdownColors, math: MathLookup | None = None) -> None:
        from markdown_it import MarkdownIt
        from mdit_py_plugins.dollarmath import dollarmath_plugin

        self.colors = colors
        self._math = math
        md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])
        dollarmath_plugin(md, allow_space=True, allow_digits=False, double_inline=True)
        rules = {
            "fence": self._fence, "code_block": self._fence, "code_inline": self._code_inline,
            "math_inline": self._math_inline, "math_inline_double": self._math_display,
            "math_block": self._math_display, "math_block_label": self._math_display,
            "image": self._image, "table_open": self._table_open,
            "th_open": self._cell_open, "td_open": self._cell_open,
        }
        for name, rule in rules.items():
            # markdown-it binds rules to its renderer: wrap ours so they keep their own self.
            md.add_render_rule(name, _as_rule(rule))
        self._md = md
        self._current: Rendered | None = None

    def render(self, text: str) -> Rendered:
        """HTML for the Markdown text (complete or still streaming)."""
        self._current = Rendered("")
        body = self._md.render(brackets_to_dollars(text))
        self._current.html = (
            f'<div style="color:{self.colors.text};">{body}</div>'
        )
        rendered, self._current = self._current, None
        return rendered

    # --- render rules (markdown-it calls them as rules(tokens, idx, options, env)) ---

    def _fence(self, tokens, idx, options, env) -> str:
        token = tokens[idx]
        code = token.content
        lang = (token.info or "").strip().split(" ")[0]
        assert self._current is not None
        n = len(self._current.code_blocks)
        self._current.code_blocks.append(code)
        c = self.colors
        label = html.escape(lang or "code")
        return (
            f'<table width="100%" cellspacing="0" cellpadding="6" '
            f'style="margin-top:6px; margin-bottom:8px; background-color:{c.code_bg};">'
            f'<tr><td style="border: none; background-color:{c.header_bg}; color:{c.muted};">{label}</td>'
            f'<td align="right" style="border: none; background-color:{c.header_bg};">'
            f'<a href="{COPY_SCHEME}:{n}" style="color:{c.link}; text-decoration:none;">Copy</a></td></tr>'
            f'<tr><td colspan="2" style="border: none;"><pre style="white-space: pre-wrap; margin:0;">'
            f"{highlight(code, lang, c.pygments_style)}</pre></td></tr></table>"
        )

    def _code_inline(self, tokens, idx, options, env) -> str:
        return (f'<code style="background-color:{self.colors.inline_code_bg};">'
                f"&#8201;{html.escape(tokens[idx].content)}&#8201;</code>")

    def _math_inline(self, tokens, idx, options, env) -> str:
        return self._formula(tokens[idx].content, display=False)

    def _math_display(self, tokens, idx, options, env) -> str:
        return f'<p align="center">{self._formula(tokens[idx].content, display=True)}</p>'

    def _formula(self, tex: str, *, display: bool) -> str:
        tex = normalise_tex(tex)
        image = self._math(tex, display) if self._math is not None and tex else None
        if image is None:
            # Not drawn (yet): show the source, quietly styled, instead of nothing.
            return (f'<span style="font-family: monospace; color:{self.colors.muted};">'
                    f"{html.escape(tex)}</span>")
        assert self._current is not None
        self._current.images[image.key] = image
        align = "middle"
        return (f'<img src="{MATH_SCHEME}:{image.key}" width="{image.width}" height="{image.height}" '
                f'style="vertical-align: {align};" alt="{html.escape(tex, quote=True)}">')

    def _image(self, tokens, idx, options, env) -> str:
        # Never load images named by model output: show them as links.
        token = tokens[idx]
        src = html.escape(str(token.attrs.get("src", "")), quote=True)
        alt = html.escape(token.content or "image")
        return f'<a href="{src}" style="color:{self.colors.link};">[image: {alt}]</a>'

    def _table_open(self, tokens, idx, options, env) -> str:
        return (f'<table cellspacing="0" cellpadding="6" style="border-collapse: collapse; '
                f'border: 1px solid {self.colors.border}; margin-top:6px; margin-bottom:8px;">')

    def _cell_open(self, tokens, idx, options, env) -> str:
        token = tokens[idx]
        style = token.attrs.get("style", "")
        align = ""
        if isinstance(style, str) and "text-align:" in style:
            align = f' align="{style.split(":", 1)[1].strip()}"'
        head = token.tag == "th"
        bg = f" background-color:{self.colors.header_bg};" if head else ""
        return f'<{token.tag}{align} style="border: 1px solid {self.colors.border};{bg}">'


def _as_rule(method: Callable[..., str]) -> Callable[..., str]:
    def rule(renderer, tokens, idx, options, env) -> str:
        return method(tokens, idx, options, env)

    return rule


def highlight(code: str, lang: str, style: str) -> str:
    """Syntax-highlighted HTML spans with inline colours (QTextDocument has no stylesheet classes)."""
    from pygments import highlight as pyg_highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import TextLexer, get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(lang) if lang else TextLexer()
    except ClassNotFound:
        lexer = TextLexer()
    formatter = HtmlFormatter(noclasses=True, nowrap=True, style=style)
    return pyg_highlight(code, lexer, formatter).rstrip("\n")
