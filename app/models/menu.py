"""Hook the model manager into the main window: File → Models… (Ctrl+M)."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence

from app.errors import user_text


def attach_model_manager(app) -> None:
    """Add the menu entry (the dialog is built when opened, probing the hardware then), and clean
    up what a crash may have left in the model store: the trash and orphaned partial downloads."""
    from engine.download.store import ModelStore

    if app.paths.models.is_dir():
        try:
            ModelStore(app.paths).cleanup()
        except OSError:
            pass  # a read-only or vanished store is reported when the manager opens
    action = app.window.add_action("File", "&Models…", QKeySequence("Ctrl+M"), lambda: open_model_manager(app))
    action.setObjectName("modelManagerAction")


def open_model_manager(app):
    """Show the model manager for this app; choosing a model saves it in the settings and loads it."""
    from app.models.dialog import ModelManagerDialog
    from engine.catalog.load import load_catalog
    from engine.download.store import ModelStore
    from engine.errors import PonderError
    from engine.hardware import detect_hardware
    from engine.providers import detect_install
    from engine.recommend import detect_gpu_memory, machine_from
    from engine.reuse import find_reusable

    try:
        app.paths.ensure()
        store = ModelStore(app.paths)
        store.cleanup()
        catalog = load_catalog()
    except (PonderError, OSError) as exc:
        app.window.notice_banner.show_message(user_text(exc), kind="error")
        return None
    machine = machine_from(detect_hardware(), detect_install(), detect_gpu_memory())
    dialog = ModelManagerDialog(store, catalog, machine, found=find_reusable(catalog), parent=app.window)
    dialog.model_chosen.connect(lambda name: use_model(app, name))
    app.window._model_manager = dialog  # keep it alive while shown
    dialog.show()
    return dialog


def use_model(app, name: str) -> None:
    """Make `name` the model in the settings; the app reloads it."""
    new = app.settings.copy()
    new.set("model", name)
    app.apply_settings(new)
