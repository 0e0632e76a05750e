"""Typed events of a summary job, for the window and the terminal."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from engine.summarize.points import Point


class Stage(enum.Enum):
    READING = "reading"  # parsing the files
    SECTIONS = "sections"  # map steps: key points of each section
    COMBINING = "combining"  # intermediate reduce steps
    WRITING = "writing"  # the final reduce step


@dataclass(frozen=True)
class SummaryProgress:
    """Where the job is: "section `step` of `total`", with an estimate of the time left.

    Attributes:
        stage: what is being done.
        step: 1-based step within the stage.
        total: steps in the stage.
        where: the sources of this step, as text ("p. 3–4").
        eta_s: seconds left for the whole job, once there is a rate to estimate from.
        points: key points found so far.
        resumed: steps taken from a previous, interrupted run.
    """

    stage: Stage
    step: int
    total: int
    where: str = ""
    eta_s: float | None = None
    points: int = 0
    resumed: int = 0


@dataclass(frozen=True)
class PointsFound:
    """New key points of one section (the partial result grows with these)."""

    step: int
    points: tuple[Point, ...]


@dataclass(frozen=True)
class SummaryStats:
    """Counts and times of a finished (or stopped) job."""

    documents: int = 0
    sections: int = 0
    map_steps: int = 0
    reduce_steps: int = 0
    resumed_steps: int = 0
    prompt_tokens: int = 0
    generated_tokens: int = 0
    thinking_tokens: int = 0
    document_tokens: int = 0
    elapsed_s: float = 0.0

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Summary:
    """The result. `partial` when the job was stopped: the points found so far, resumable later.

    Attributes:
        markdown: the summary as Markdown, each point followed by its sources.
        points: the points with their sources.
        sections: how many sections (chunks) the documents were read in.
        documents: the file names summarised.
        notes: things the user should know (pages without text, ...).
    """

    markdown: str
    points: tuple[Point, ...]
    sections: int
    documents: tuple[str, ...]
    stats: SummaryStats = field(default_factory=SummaryStats)
    partial: bool = False
    notes: tuple[str, ...] = ()


SummaryEvent = SummaryProgress | PointsFound


def eta_text(seconds: float | None) -> str:
    """'about 40 s left', 'about 3 min left', or '' before there is an estimate."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"about {max(1, round(seconds))} s left"
    if seconds < 5400:
        return f"about {round(seconds / 60)} min left"
    return f"about {seconds / 3600:.1f} h left"


def progress_text(event: SummaryProgress) -> str:
    """One line for a person: "Section 3 of 12 (p. 5) · about 40 s left"."""
    where = f" ({event.where})" if event.where else ""
    text = {
        Stage.READING: f"Reading {event.where} ({event.step} of {event.total})",
        Stage.SECTIONS: f"Section {event.step} of {event.total}{where}",
        Stage.COMBINING: f"Combining key points, part {event.step} of {event.total}",
        Stage.WRITING: "Writing the summary",
    }[event.stage]
    eta = eta_text(event.eta_s)
    return f"{text} · {eta}" if eta else text
