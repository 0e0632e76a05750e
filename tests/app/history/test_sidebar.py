"""The sidebar on its own, over a real store: list order, pin, rename, delete with undo, search."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.history.sidebar import ID_ROLE, HistorySidebar


@pytest.fixture
def filled(store):
    ids = {}
    for title, question, answer, thinking in [
        ("Photosynthesis", "How do plants eat?", "They turn light into sugar.", "chlorophyll"),
        ("Rome trip", "What to see in Rome?", "The Pantheon.", "ancient buildings"),
        ("Taxes", "When are taxes due?", "In April.", "calendar"),
    ]:
        conv = store.create_conversation(title)
        store.add_message(conv.id, "user", question)
        writer = store.start_message(conv.id)
        writer.set_text(thinking, answer)
        writer.flush()
        ids[title] = conv.id
    return ids


@pytest.fixture
def sidebar(qtbot, store, filled):
    widget = HistorySidebar(store)
    qtbot.addWidget(widget)
    widget.resize(280, 600)
    widget.show()
    yield widget
    widget.set_store(None)  # the store fixture closes it next


def _rows(sidebar):
    """The chats in the list, without the date headings."""
    items = [sidebar.list.item(i) for i in range(sidebar.list.count())]
    return [item for item in items if item.data(ID_ROLE) is not None]


def _titles(sidebar):
    return [item.text() for item in _rows(sidebar)]


def test_newest_first_and_pinned_on_top(sidebar, filled):
    assert sidebar.findChild(type(sidebar.list), "historyList") is sidebar.list
    assert _titles(sidebar) == ["Taxes", "Rome trip", "Photosynthesis"]
    item = _rows(sidebar)[2]
    menu = sidebar.context_menu(item)
    [pin] = [a for a in menu.actions() if a.text() == "Pin to top"]
    pin.trigger()
    assert _titles(sidebar) == ["Photosynthesis", "Taxes", "Rome trip"]
    assert _headings(sidebar) == ["Pinned", "Today"]
    [unpin] = [a for a in sidebar.context_menu(_rows(sidebar)[0]).actions()
               if a.text() == "Unpin"]
    unpin.trigger()
    assert _titles(sidebar)[0] == "Taxes"


def test_rename_in_place(sidebar, store, filled):
    item = _rows(sidebar)[0]
    item.setText("Tax deadlines 2026")
    assert store.summary(filled["Taxes"]).title == "Tax deadlines 2026"
    assert _titles(sidebar)[0] == "Tax deadlines 2026"


def test_delete_then_undo(sidebar, store, filled, qtbot):
    sidebar.list.setCurrentItem(_rows(sidebar)[1])
    sidebar.list.setFocus()
    qtbot.keyClick(sidebar.list, Qt.Key.Key_Delete)
    assert _titles(sidebar) == ["Taxes", "Photosynthesis"]
    assert sidebar.undo_bar.isVisible()
    qtbot.mouseClick(sidebar.undo_button, Qt.MouseButton.LeftButton)
    assert _titles(sidebar) == ["Taxes", "Rome trip", "Photosynthesis"]
    assert not sidebar.undo_bar.isVisible()


def test_search_highlights_hits_and_a_click_opens_at_the_message(sidebar, store, filled, qtbot):
    search = sidebar.findChild(type(sidebar.search), "historySearch")
    qtbot.keyClicks(search, "chloro")
    qtbot.waitUntil(lambda: sidebar.results.isVisible() and sidebar.results.count() == 1)
    assert not sidebar.list.isVisible()
    item = sidebar.results.item(0)
    label = sidebar.results.itemWidget(item)
    assert "background-color" in label.text() and ">chlorophyll</span>" in label.text()
    assert "thinking" in label.text()
    answer_id = store.conversation(filled["Photosynthesis"]).messages[1].id
    with qtbot.waitSignal(sidebar.open_requested) as opened:
        rect = sidebar.results.visualItemRect(item)
        qtbot.mouseClick(sidebar.results.viewport(), Qt.MouseButton.LeftButton,
                         pos=rect.center())
    assert opened.args == [filled["Photosynthesis"], answer_id]
    search.clear()
    qtbot.waitUntil(lambda: sidebar.list.isVisible())


def test_search_with_no_match_says_so(sidebar, qtbot):
    qtbot.keyClicks(sidebar.search, "zzzqqq")
    qtbot.waitUntil(lambda: sidebar.empty.isVisible())
    assert sidebar.empty.text() == "No matches."


def test_click_opens_a_conversation(sidebar, filled, qtbot):
    item = _rows(sidebar)[1]
    with qtbot.waitSignal(sidebar.open_requested) as opened:
        qtbot.mouseClick(sidebar.list.viewport(), Qt.MouseButton.LeftButton,
                         pos=sidebar.list.visualItemRect(item).center())
    assert opened.args == [filled["Rome trip"], None]


def test_writes_from_another_process_appear(sidebar, vault, qtbot):
    with vault.open() as other:  # a second connection, as `ponder ask --save` would be
        other.create_conversation("From the command line")
    qtbot.waitUntil(lambda: "From the command line" in _titles(sidebar), timeout=10_000)


def test_locked_state_shows_the_choices(qtbot):
    sidebar = HistorySidebar(None)
    qtbot.addWidget(sidebar)
    sidebar.show()
    clicked = []
    sidebar.show_state("Your conversation history cannot be opened.",
                       [("Try the keyring again", lambda: clicked.append("retry")),
                        ("Start a new history", lambda: clicked.append("new"))])
    buttons = [b for b in sidebar.state.findChildren(type(sidebar.undo_button))
               if b.objectName() == "historyChoice" and not b.isHidden()]
    assert [b.text() for b in buttons] == ["Try the keyring again", "Start a new history"]
    qtbot.mouseClick(buttons[1], Qt.MouseButton.LeftButton)
    assert clicked == ["new"]
    assert sidebar.empty.text() == "Chats are not being saved." and not sidebar.search.isEnabled()


def test_item_ids(sidebar, filled):
    assert {item.data(ID_ROLE) for item in _rows(sidebar)} == set(filled.values())


def _headings(sidebar):
    items = [sidebar.list.item(i) for i in range(sidebar.list.count())]
    return [item.text() for item in items if item.data(ID_ROLE) is None]


def test_chats_are_grouped_by_date_and_equal_titles_told_apart(qtbot, store):
    import time as _time

    from app.history.sidebar import date_group

    now = _time.time()
    for title, age_days in [("What is 2 plus 3?", 0), ("What is 2 plus 3?", 0), ("Rome trip", 1), ("Taxes", 40)]:
        conv = store.create_conversation(title)
        store.add_message(conv.id, "user", title)
        store._db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now - age_days * 86400, conv.id))
    widget = HistorySidebar(store)
    qtbot.addWidget(widget)
    widget.show()
    assert _headings(widget) == ["Today", "Yesterday", "Older"]
    same = [t for t in _titles(widget) if t.startswith("What is 2 plus 3?")]
    assert len(same) == 2 and same[0] != same[1] and all(" · " in t for t in same)
    heading = next(widget.list.item(i) for i in range(widget.list.count()) if widget.list.item(i).data(ID_ROLE) is None)
    assert not heading.flags() & Qt.ItemFlag.ItemIsSelectable
    import datetime as dt
    today = dt.date(2026, 12, 2)
    assert [date_group(today - dt.timedelta(days=d), today) for d in (0, 1, 3, 10, 90)] == \
        ["Today", "Yesterday", "Last 7 days", "Last 30 days", "Older"]
    widget.set_store(None)


def test_undo_reopens_the_deleted_chat_that_was_open(sidebar, filled, qtbot):
    sidebar.set_current(filled["Rome trip"])
    with qtbot.waitSignal(sidebar.new_requested):
        sidebar.delete(filled["Rome trip"])
    with qtbot.waitSignal(sidebar.open_requested) as opened:
        qtbot.mouseClick(sidebar.undo_button, Qt.MouseButton.LeftButton)
    assert opened.args == [filled["Rome trip"], None]
