"""The templates that `make templates` writes, each from the module that builds it."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from instacart_lake.deploy.templates import api, catalog, jobs, orchestration, storage
from instacart_lake.deploy.templates.rendering import TEMPLATES_DIR, render
from instacart_lake.governance import template as governance
from instacart_lake.observability import template as monitoring
from instacart_lake.query import template as athena
from instacart_lake.stream import template as stream

GENERATED: dict[str, ModuleType] = {
    "storage.yaml": storage,
    "catalog.yaml": catalog,
    "api.yaml": api,
    "jobs.yaml": jobs,
    "orchestration.yaml": orchestration,
    "governance.yaml": governance,
    "athena.yaml": athena,
    "stream.yaml": stream,
    "monitoring.yaml": monitoring,
}


def rendered(name: str) -> str:
    module = GENERATED[name]
    return render(module.template(), module.SOURCES)


def write_templates(folder: Path = TEMPLATES_DIR) -> list[Path]:
    written = []
    for name in GENERATED:
        path = folder / name
        path.write_text(rendered(name), encoding="utf-8")
        written.append(path)
    return written


def stale_templates(folder: Path = TEMPLATES_DIR) -> list[str]:
    """The generated templates whose committed file differs from what their sources give."""
    return [name for name in GENERATED
            if not (folder / name).exists() or (folder / name).read_text(encoding="utf-8") != rendered(name)]
