from hypothesis import given, strategies as st

from engine.reasoning import ReasoningSplitter


def split(chunks, **kw):
    splitter = ReasoningSplitter(**kw)
    pieces = [p for c in chunks for p in splitter.push(c)] + splitter.flush()
    thinking = "".join(p.text for p in pieces if p.thinking)
    answer = "".join(p.text for p in pieces if not p.thinking)
    return thinking, answer, splitter


def test_markers_split_across_chunks_are_held_back():
    chunks = ["<th", "ink>Let me", " add: 2+3", "=5.</thi", "nk>\n", "The answer ", "is 5."]
    thinking, answer, _ = split(chunks)
    assert thinking == "Let me add: 2+3=5."
    assert answer == "The answer is 5."



def test_stream_that_starts_inside_thinking():
    thinking, answer, _ = split(["still thinking", "</think>", "42"], start_inside=True)
    assert (thinking, answer) == ("still thinking", "42")


def test_model_that_never_closes_thinking_keeps_everything_as_thinking():
    thinking, answer, splitter = split(["<think>hmm", " and hmm </thin"])
    assert thinking == "hmm and hmm </thin"
    assert answer == ""
    assert splitter.inside and not splitter.seen_end


def test_answer_without_thinking():
    thinking, answer, splitter = split(["The answer", " is 82."])
    assert (thinking, answer) == ("", "The answer is 82.")
    assert not splitter.seen_end


def test_lookalike_text_is_not_a_marker():
    thinking, answer, _ = split(["<thinking> is not <th", "e marker"])
    assert (thinking, answer) == ("", "<thinking> is not <the marker")


@given(st.text(alphabet="ab<>/thinkTe ", max_size=60), st.text(alphabet="ab<>/ T", max_size=30),
       st.lists(st.integers(min_value=1, max_value=7), max_size=40))
def test_any_chunking_gives_the_same_split(thinking_text, answer_text, cuts):
    # Markers inside the content would change the meaning; exclude them.
    if "<think>" in thinking_text + answer_text or "</think>" in thinking_text + answer_text:
        return
    text = f"<think>{thinking_text}</think>{answer_text}"
    chunks, pos = [], 0
    for cut in cuts:
        chunks.append(text[pos:pos + cut])
        pos += cut
    chunks.append(text[pos:])
    assert split(chunks)[:2] == split([text])[:2]


def test_partial_marker_is_not_shown_until_it_resolves():
    splitter = ReasoningSplitter()
    pieces = splitter.push("<think>abc</th")
    assert [(p.thinking, p.text) for p in pieces] == [(True, "abc")]
    pieces = splitter.push("ink>ok")
    assert [(p.thinking, p.text) for p in pieces] == [(False, "ok")]


def test_second_closing_marker_after_a_forced_close_never_reaches_the_answer():
    # Stop → Answer now pushes a forced "</think>"; the model then often closes again itself.
    chunks = ["<think>2+20", "</think>", "The answer is 10. 2+20=30.</th", "ink>The answer is 30."]
    thinking, answer, _ = split(chunks)
    assert thinking == "2+20"
    assert "</think>" not in answer and "think>" not in answer
    assert answer == "The answer is 10. 2+20=30.The answer is 30."


def test_stray_closing_marker_in_an_answer_without_thinking_is_dropped():
    thinking, answer, _ = split(["Five.", "</think>", " Really five."])
    assert (thinking, answer) == ("", "Five. Really five.")
