"""Answer Markdown: structure, highlighted code with copy links, math as images, nothing unsafe."""

from __future__ import annotations

import pytest

from app.markdown.math import MathImage, draw, normalise_tex
from app.markdown.render import MarkdownColors, MarkdownRenderer, brackets_to_dollars


def _renderer(found: dict[str, bool] | None = None):
    def lookup(tex: str, display: bool):
        if found is not None:
            found[tex] = display
        return MathImage(key=f"k{len(found or {})}", png=b"", width=10, height=8)

    return MarkdownRenderer(MarkdownColors(), lookup)


def test_headings_lists_tables_and_code():
    rendered = _renderer().render("# Title\n\n- one\n- two\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n\n"
                                  "```python\ndef f():\n    return 1\n```\n")
    html = rendered.html
    assert "<h1>Title</h1>" in html and "<li>one</li>" in html
    assert "<table" in html and '<td align="right"' in html
    assert rendered.code_blocks == ["def f():\n    return 1\n"]
    assert 'href="copy:0"' in html
    assert "<span style=" in html  # Pygments colours, inline


def test_all_four_math_delimiters_become_images():
    found: dict[str, bool] = {}
    rendered = _renderer(found).render(r"Inline $a+b$ and \(c^2\)." "\n\n$$\\frac{1}{2}$$\n\n\\[\\sqrt{x}\\]\n")
    assert found == {"a+b": False, "c^2": False, r"\frac{1}{2}": True, r"\sqrt{x}": True}
    assert rendered.html.count('<img src="math:') == 4
    assert "$" not in rendered.html and "\\(" not in rendered.html


def test_math_in_code_is_left_alone():
    assert brackets_to_dollars("`\\(x\\)` and \\(y\\)") == "`\\(x\\)` and $y$"


def test_math_not_ready_shows_its_source():
    html = MarkdownRenderer(MarkdownColors(), lambda tex, display: None).render("$x^2$").html
    assert "x^2" in html and "<img" not in html


def test_model_output_cannot_inject_html_or_load_images():
    html = _renderer().render('<img src="file:///etc/passwd"> <b>bold</b>\n\n![pic](http://example.com/a.png)').html
    assert "<b>bold</b>" not in html and "&lt;b&gt;" in html
    assert '<img src="file' not in html and '<img src="http' not in html
    assert "[image: pic]" in html


def test_latex_that_mathtext_lacks_is_rewritten():
    assert normalise_tex(r"\boxed{\dfrac{1}{2}}") == r"\frac{1}{2}"
    assert normalise_tex(r"x \text{ apples}") == r"x \mathrm{ apples}"


@pytest.mark.slow
def test_mathtext_draws_a_transparent_png():
    image = draw(r"\frac{a}{b} + \sqrt{x}", display=True, color="#000000", point_size=11, scale=1)
    assert image is not None and image.png.startswith(b"\x89PNG") and image.width > 20 and image.height > 10
    assert draw(r"\begin{matrix} broken", display=False, color="#000000", point_size=11, scale=1) is None


@pytest.mark.parametrize("tex", [
    r"\begin{aligned} a &= b + c \\ d &= e \end{aligned}",
    "\\begin{cases} x & x > 0 \\\\\n -x & x \\le 0 \\end{cases}",
    r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}",
    r"f(x) = \begin{cases} x & x > 0 \\ -x & x \le 0 \end{cases} + 1",
])
def test_multi_line_environments_are_drawn_row_by_row_not_shown_as_source(tex):
    one_row = draw(normalise_tex("a = b + c"), display=True, color="#000000", point_size=11, scale=1)
    image = draw(normalise_tex(tex), display=True, color="#000000", point_size=11, scale=1)
    assert image is not None and image.png.startswith(b"\x89PNG")
    assert image.height > 1.5 * one_row.height  # two rows, one under the other


def test_the_formula_cache_keeps_the_recent_ones_within_its_bounds(monkeypatch):
    from app.markdown import math as math_module
    from app.markdown.math import MathImages

    drawn = []

    def fake_draw(tex, *, display, color, point_size, scale):
        drawn.append(tex)
        return MathImage(tex, b"x" * 1000, 10, 10)

    monkeypatch.setattr(math_module, "draw", fake_draw)
    images = MathImages(max_images=4, max_bytes=3500)
    for n in range(20):
        images.lookup(f"x^{n}", False)
        images.lookup("e^{i\\pi}", False)  # used all along: stays
    assert len(images) <= 4 and images.cached_bytes <= 3500
    assert drawn.count("e^{i\\pi}") == 1
    images.lookup("x^0", False)  # long unused: dropped, so drawn again
    assert drawn.count("x^0") == 2
