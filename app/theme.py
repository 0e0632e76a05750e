"""Light and dark themes: a palette, the stylesheet in resources/styles, Markdown colours.

"system" follows the desktop's colour scheme (Qt's QStyleHints) and changes with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.markdown.render import MarkdownColors
from engine.paths import resources_dir


@dataclass(frozen=True)
class Theme:
    """Colour tokens; the stylesheet refers to them as @name."""

    name: str
    window: str
    surface: str
    surface_alt: str
    text: str
    muted: str
    border: str
    accent: str
    accent_text: str
    user_bubble: str
    thinking_bg: str
    warning_bg: str
    warning_text: str
    error_bg: str
    error_text: str
    markdown: MarkdownColors

    @property
    def dark(self) -> bool:
        return self.name == "dark"

    def tokens(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if isinstance(v, str) and v.startswith("#")}


LIGHT = Theme(
    name="light", window="#f6f7f9", surface="#ffffff", surface_alt="#eef0f3", text="#1f2328",
    muted="#656d76", border="#d8dde3", accent="#3b5bdb", accent_text="#ffffff",
    user_bubble="#e7ecfb", thinking_bg="#f3f4f7", warning_bg="#fff4d6", warning_text="#5c4300",
    error_bg="#fde8e8", error_text="#8a1c1c",
    markdown=MarkdownColors(),
)

DARK = Theme(
    name="dark", window="#17191d", surface="#1f2227", surface_alt="#2a2e35", text="#e6e8eb",
    muted="#9aa3ad", border="#353a42", accent="#7c95ff", accent_text="#0d1020",
    user_bubble="#2b3350", thinking_bg="#23262c", warning_bg="#3d3316", warning_text="#f4dc9a",
    error_bg="#4a2020", error_text="#ffc9c9",
    markdown=MarkdownColors(text="#e6e8eb", muted="#9aa3ad", link="#8fb0ff", border="#3d434c",
                            code_bg="#282c34", inline_code_bg="#30343c", header_bg="#30343c",
                            pygments_style="one-dark"),
)


def pick_theme(setting: str, system_is_dark: bool) -> Theme:
    """The theme for the 'theme' setting ('system', 'light', 'dark')."""
    if setting == "dark" or (setting == "system" and system_is_dark):
        return DARK
    return LIGHT


def stylesheet(theme: Theme, font_size: int) -> str:
    """The application stylesheet with the theme's colours filled in."""
    text = (resources_dir() / "styles" / "ponder.qss").read_text(encoding="utf-8")
    text = text.replace("@icons", (resources_dir() / "icons").as_posix())
    # Longest names first so @surface_alt is not read as @surface + "_alt".
    for name, value in sorted(theme.tokens().items(), key=lambda kv: -len(kv[0])):
        text = text.replace(f"@{name}", value)
    if font_size > 0:
        text += f"\n#messageList, #chatInput {{ font-size: {font_size}pt; }}\n"
    return text


def apply_theme(app, theme: Theme, font_size: int) -> None:
    """Fusion style, a matching palette and the stylesheet, on the whole application."""
    from PySide6.QtGui import QColor, QPalette

    app.setStyle("Fusion")
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: theme.window, QPalette.ColorRole.WindowText: theme.text,
        QPalette.ColorRole.Base: theme.surface, QPalette.ColorRole.AlternateBase: theme.surface_alt,
        QPalette.ColorRole.Text: theme.text, QPalette.ColorRole.Button: theme.surface,
        QPalette.ColorRole.ButtonText: theme.text, QPalette.ColorRole.Highlight: theme.accent,
        QPalette.ColorRole.HighlightedText: theme.accent_text, QPalette.ColorRole.ToolTipBase: theme.surface,
        QPalette.ColorRole.ToolTipText: theme.text, QPalette.ColorRole.PlaceholderText: theme.muted,
        QPalette.ColorRole.Link: theme.markdown.link,
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(theme.muted))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(theme.muted))
    app.setPalette(palette)
    app.setStyleSheet(stylesheet(theme, font_size))


def system_is_dark(app) -> bool:
    """The desktop's colour scheme, where Qt knows it."""
    from PySide6.QtCore import Qt

    return app.styleHints().colorScheme() == Qt.ColorScheme.Dark
