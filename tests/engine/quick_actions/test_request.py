"""Quick-action requests survive the hand-over; malformed ones are refused with a message."""

from __future__ import annotations

import pytest

from engine.errors import BadRequestError
from engine.quick_actions.request import QuickRequest


def test_round_trip():
    request = QuickRequest(source="stdin", action="ask", question="Why? ✓", text="<|end|> text")
    assert QuickRequest.from_json(request.to_json()) == request


@pytest.mark.parametrize("line", ["not json", "[]", '{"source": "camera"}', '{"action": 3}'])
def test_malformed(line):
    with pytest.raises(BadRequestError):
        QuickRequest.from_json(line)
