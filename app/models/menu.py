"""Hook the model manager into the main window: File → Models… (Ctrl+M)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QKeySequence

from app.errors import user_text

if TYPE_CHECKING:
    from app.main import PonderApp
    from app.models.dialog import ModelManagerDialog
    from app.models.probe import Probe
    from app.ops import Op


class ModelManager:
    """File → Models…: one dialog at a time, kept (hidden) while a job it runs goes on in the
    background, so opening it again shows that job's progress.

    Attributes:
        dialog: the dialog last opened (None before the first time).
    """

    def __init__(self, app: PonderApp) -> None:
        self.app = app
        self.dialog: ModelManagerDialog | None = None
        self._probe: Op[Probe] | None = None

    def open(self) -> ModelManagerDialog | None:
        """Show the manager at once; what it needs to know about the computer arrives from an
        ops operation (app/models/probe.py), so the window never waits for nvidia-smi."""
        from app.models.dialog import ModelManagerDialog
        from app.models.probe import probe
        from engine.catalog.load import load_catalog
        from engine.download.store import ModelStore
        from engine.errors import PonderError

        app = self.app
        if self.dialog is not None and (self.dialog.busy or self.dialog.isVisible()):
            self.dialog.show()  # a job goes on in it: show its progress rather than a second one
            self.dialog.raise_()
            self.dialog.activateWindow()
            return self.dialog
        try:
            app.paths.ensure()
            store = ModelStore(app.paths)
            catalog = load_catalog()
        except (PonderError, OSError) as exc:
            app.window.notice_banner.show_message(user_text(exc), kind="error")
            return None
        if self.dialog is not None:  # closed, nothing running: a fresh one looks at the computer again
            if self._probe is not None:
                self._probe.cancel()  # its result must not reach the deleted dialog
            self.dialog.deleteLater()
        dialog = self.dialog = ModelManagerDialog(
            store, catalog, None, ops=app.ops, parent=app.window,
            notify=lambda text, kind: app.window.notice_banner.show_message(text, kind=kind))
        dialog.model_chosen.connect(lambda name: use_model(app, name))
        dialog.show()
        self._probe = app.ops.run(lambda state: probe(store, catalog, state), name="look at this computer",
                                  on_done=dialog.probe_done, on_error=dialog.probe_failed)
        return dialog


def attach_model_manager(app: PonderApp) -> ModelManager:
    """Add the menu entry (the dialog is built when opened, probing the hardware then), and clean
    up what a crash may have left in the model store (the trash, orphaned partial downloads) in
    the background: emptying the trash of a large model takes a while."""
    from engine.download.store import ModelStore

    manager = ModelManager(app)
    if app.paths.models.is_dir():
        store = ModelStore(app.paths)
        app.ops.run(lambda _state: store.cleanup(), name="clean up the model store",
                    on_error=lambda _failure: None)  # a read-only store: said when the manager opens
    action = app.window.add_action("File", "&Models…", QKeySequence("Ctrl+M"), manager.open)
    action.setObjectName("modelManagerAction")
    return manager


def open_model_manager(app: PonderApp) -> ModelManagerDialog | None:
    """Show the model manager for this app; choosing a model saves it in the settings and loads it."""
    return app.models.open() if app.models is not None else None


def use_model(app: PonderApp, name: str) -> None:
    """Make `name` the model in the settings; the app reloads it."""
    new = app.settings.copy()
    new.set("model", name)
    app.apply_settings(new)
