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
