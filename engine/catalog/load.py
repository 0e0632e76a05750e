"""Read the catalog shipped in resources/catalog/."""

from __future__ import annotations

import json
from pathlib import Path

from engine.catalog.schema import Catalog, CatalogError, parse_catalog
from engine.paths import resources_dir


def catalog_file() -> Path:
    """The catalog shipped with Ponder."""
    return resources_dir() / "catalog" / "models.json"


def load_catalog(path: Path | None = None) -> Catalog:
    """Parse and validate the catalog; raises CatalogError when it is damaged."""
    source = path or catalog_file()
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogError(f"{source.name}: {exc}") from None
    return parse_catalog(data)
