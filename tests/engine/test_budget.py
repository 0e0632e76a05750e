import pytest

from engine.budget import ThinkingBudget
from engine.errors import BadRequestError


@pytest.mark.parametrize("value,tokens", [("low", 256), ("MEDIUM", 1024), ("high", 4096),
                                          ("unlimited", None), ("17", 17), (5, 5), (None, None)])
def test_presets_and_numbers(value, tokens):
    assert ThinkingBudget.parse(value).tokens == tokens


@pytest.mark.parametrize("value", ["0", "-3", "lots", "1.5", 0])
def test_bad_budgets_are_refused_with_a_clear_message(value):
    with pytest.raises(BadRequestError, match="Thinking budget"):
        ThinkingBudget.parse(value)


def test_custom_presets_come_from_settings():
    assert ThinkingBudget.parse("low", {"low": 64}).tokens == 64


def test_exhausted():
    assert ThinkingBudget(3).exhausted(3) and not ThinkingBudget(3).exhausted(2)
    assert not ThinkingBudget(None).exhausted(10**9)


@pytest.mark.parametrize("tail,boundary", [
    ("so 37+45=82.", True), ("write 2, carry 1. ", True), ("Is that right?", True), ('he said "no."', True),
    ("First part.\n", True), ("a list:\n\n", True), ("write 2, car", False), ("ones: 7+5", False),
    ("12, write", False), ("", False)])
def test_sentence_and_paragraph_ends(tail, boundary):
    from engine.budget import ends_at_boundary

    assert ends_at_boundary(tail) is boundary


def test_a_spent_budget_closes_at_the_next_sentence_end_within_the_grace():
    from engine.budget import BOUNDARY_GRACE

    budget = ThinkingBudget(100)
    assert not budget.should_close(99, "The sum is 82.")  # not spent yet
    assert not budget.should_close(100, "write 2, car")  # spent, but mid-word: a little longer
    assert budget.should_close(105, "write 2, carry 1.")  # the sentence ended
    assert budget.should_close(100 + BOUNDARY_GRACE, "still no end in sight and")  # grace is over
    assert not ThinkingBudget(None).should_close(10**6, "Done.")
