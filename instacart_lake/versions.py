"""The version manifest (versions.toml at the repository root) and what is rendered from it.

`python -m instacart_lake.versions requirements` prints requirements.txt and
`... requirements-dev` prints requirements-dev.txt; a test keeps both in step.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

MANIFEST_PATH = Path(__file__).resolve().parent.parent / "versions.toml"

_HEADER = "# Rendered from versions.toml by `make requirements`; do not edit by hand.\n"


def load_manifest(path: Path = MANIFEST_PATH) -> dict:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def platform_version(name: str) -> str:
    """A platform version (glue, python, spark, java, delta_reader, ...)."""
    return load_manifest()["platform"][name]


def render_requirements(section: str, manifest: dict | None = None) -> str:
    pins = (manifest or load_manifest())[section]
    includes = "-r requirements.txt\n" if section == "python-dev" else ""
    return _HEADER + includes + "".join(f"{package}=={version}\n" for package, version in pins.items())


def main(argv: list[str]) -> int:
    sections = {"requirements": "python", "requirements-dev": "python-dev"}
    if len(argv) != 1 or argv[0] not in sections:
        print(f"usage: python -m instacart_lake.versions {{{','.join(sections)}}}", file=sys.stderr)
        return 2
    sys.stdout.write(render_requirements(sections[argv[0]]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
