"""Find a model by what the user typed: 'demo', an installed model's name, or a folder path."""

from __future__ import annotations

from pathlib import Path

from engine.errors import ModelNotFoundError
from engine.model_folder import CONFIG_NAME, ModelFolder, validate_model_folder
from engine.paths import Paths, demo_model_dir

DEMO = "demo"


def resolve_model(spec: str, paths: Paths | None = None) -> ModelFolder:
    """Validate and return the model folder named by spec."""
    if spec == DEMO:
        return validate_model_folder(demo_model_dir())
    if paths is not None and "/" not in spec and "\\" not in spec:
        installed = paths.models / spec
        if (installed / CONFIG_NAME).exists():
            return validate_model_folder(installed)
    candidate = Path(spec).expanduser()
    if not candidate.exists():
        raise ModelNotFoundError(spec)
    return validate_model_folder(candidate)


def default_model(paths: Paths) -> str:
    """The model to start with: the first installed one, else the demo."""
    if paths.models.is_dir():
        for folder in sorted(paths.models.iterdir()):
            if (folder / CONFIG_NAME).is_file():
                return folder.name
    return DEMO


def installed_models(paths: Paths) -> list[Path]:
    """Folders under the models directory that look like model folders."""
    if not paths.models.is_dir():
        return []
    return [f for f in sorted(paths.models.iterdir()) if (f / CONFIG_NAME).is_file()]
