"""The catalogue of quick actions and the order they are offered in for a piece of text."""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import BadRequestError
from engine.quick_actions.classify import ContentKind, classify


@dataclass(frozen=True)
class Action:
    """One thing Ponder can do with captured text.

    Attributes:
        key: the command-line name (`ponder act --action KEY`).
        label: what the popup's button says.
        instruction: what the model is asked to do; `{language}` and `{question}` are filled in.
        needs_question: the user types a question first (Ask).
        needs_language: the user picks a language first (Translate).
    """

    key: str
    label: str
    instruction: str
    needs_question: bool = False
    needs_language: bool = False


ACTIONS: tuple[Action, ...] = (
    Action("summarize", "Summarize", "Summarize the text in a few sentences."),
    Action("rewrite-formal", "Rewrite: more formal",
           "Rewrite the text in a more formal tone. Keep its meaning; reply with the rewritten text only."),
    Action("rewrite-casual", "Rewrite: more casual",
           "Rewrite the text in a more casual, friendly tone. Keep its meaning; reply with the rewritten "
           "text only."),
    Action("shorten", "Rewrite: shorter",
           "Rewrite the text so it is much shorter. Keep what matters; reply with the shorter text only."),
    Action("explain", "Explain", "Explain the text in plain words."),
    Action("list", "Bulleted list", "Turn the text into a bulleted list of its main points."),
    Action("table", "Table", "Put the information in the text into a Markdown table."),
    Action("proofread", "Proofread",
           "Proofread the text: fix spelling, grammar and punctuation. Reply with the corrected text, "
           "then list the changes."),
    Action("translate", "Translate to…", "Translate the text into {language}. Reply with the translation only.",
           needs_language=True),
    Action("solve", "Solve step by step", "Solve the problem in the text step by step."),
    Action("ask", "Ask a question…", "Answer this question about the text: {question}", needs_question=True),
)

ACTION_KEYS: tuple[str, ...] = tuple(action.key for action in ACTIONS)

#: Languages offered by Translate; any other name typed by the user works too.
LANGUAGES: tuple[str, ...] = (
    "English", "French", "German", "Spanish", "Italian", "Portuguese", "Dutch", "Polish",
    "Chinese", "Japanese", "Korean", "Arabic", "Hindi", "Russian", "Turkish", "Ukrainian",
)

_FIRST: dict[ContentKind, tuple[str, ...]] = {
    ContentKind.MATH: ("solve", "explain"),
    ContentKind.CODE: ("explain", "summarize"),
    ContentKind.LONG: ("summarize", "list", "explain"),
    ContentKind.SHORT: ("explain", "rewrite-formal", "proofread"),
    ContentKind.PROSE: ("summarize", "rewrite-formal", "proofread"),
}


def action_by_key(key: str) -> Action:
    """The action named key, or BadRequestError listing the names."""
    for action in ACTIONS:
        if action.key == key:
            return action
    raise BadRequestError(f"Unknown action '{key}'. Choose one of: {', '.join(ACTION_KEYS)}.")


def offered_actions(text: str) -> list[Action]:
    """Every action, the ones that fit this text best first (Solve first for math)."""
    first = _FIRST[classify(text)]
    ranked = [action_by_key(key) for key in first]
    ranked += [action for action in ACTIONS if action.key not in first]
    if classify(text) is not ContentKind.MATH:
        # Solve stays available but goes last, just before the free question.
        solve = action_by_key("solve")
        ranked.remove(solve)
        ranked.insert(len(ranked) - 1, solve)
    return ranked
