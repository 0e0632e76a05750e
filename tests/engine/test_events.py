from engine.events import AnswerDelta, Finished, FinishReason, Stats, ThinkingDelta, coalesce


def test_deltas_merge_and_only_the_newest_stats_survive():
    batch = [ThinkingDelta("a"), Stats(thinking_tokens=1), ThinkingDelta("b"), Stats(thinking_tokens=2),
             AnswerDelta("x"), AnswerDelta("y")]
    assert coalesce(batch) == [ThinkingDelta("ab"), AnswerDelta("xy"), Stats(thinking_tokens=2)]


def test_final_event_stays_last():
    done = Finished(FinishReason.STOP, "t", "a")
    assert coalesce([AnswerDelta("a"), Stats(answer_tokens=1), done]) == [AnswerDelta("a"), Stats(answer_tokens=1), done]
