"""The Spark jars of the local engines (Delta, Deequ with its DQDL parser, s3a), named once in
versions.toml's [maven] section.

`python -m instacart_lake.jars` (run by `make setup`) fetches them with Maven into `.jars/` at
the repository root (or LAKE_JARS_DIR), once: a folder that already holds every jar of the
manifest is left alone. Local Spark sessions then start offline with `spark_jars()` on the
JVM's class path. Glue brings its own jars and never calls this.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from instacart_lake.errors import LakeError
from instacart_lake.versions import MANIFEST_PATH, load_manifest

DEFAULT_JARS_DIR = MANIFEST_PATH.parent / ".jars"
SETUP_COMMAND = "make setup"


@dataclass(frozen=True)
class MavenArtifact:
    group_id: str
    artifact_id: str
    version: str

    @property
    def coordinate(self) -> str:
        return f"{self.group_id}:{self.artifact_id}:{self.version}"

    @property
    def jar_name(self) -> str:
        return f"{self.artifact_id}-{self.version}.jar"


def maven_artifacts(manifest: dict | None = None) -> list[MavenArtifact]:
    """The [maven] section of the manifest: `"group:artifact" = "version"`."""
    artifacts = []
    for name, version in (manifest or load_manifest())["maven"].items():
        group_id, _, artifact_id = name.partition(":")
        artifacts.append(MavenArtifact(group_id, artifact_id, version))
    return artifacts


def jars_dir() -> Path:
    return Path(os.environ.get("LAKE_JARS_DIR") or DEFAULT_JARS_DIR)


def spark_jars(folder: Path | None = None) -> list[Path]:
    """The jar of every artifact of the manifest, checked: present and a readable jar."""
    folder = folder or jars_dir()
    problems = [_problem(folder / artifact.jar_name) for artifact in maven_artifacts()]
    missing = [problem for problem in problems if problem]
    if missing:
        raise LakeError(
            f"the Spark jars in {folder} are incomplete ({'; '.join(missing)}): run `{SETUP_COMMAND}` to fetch them"
        )
    return [folder / artifact.jar_name for artifact in maven_artifacts()]


def _problem(jar: Path) -> str | None:
    if not jar.is_file():
        return f"{jar.name} is missing"
    if not zipfile.is_zipfile(jar):
        return f"{jar.name} is not a jar"
    return None


def render_pom(artifacts: list[MavenArtifact]) -> str:
    """A throwaway project depending on each artifact, for `mvn dependency:copy-dependencies`."""
    dependencies = "".join(
        "    <dependency>"
        f"<groupId>{escape(a.group_id)}</groupId><artifactId>{escape(a.artifact_id)}</artifactId>"
        f"<version>{escape(a.version)}</version></dependency>\n"
        for a in artifacts
    )
    return (
        '<project xmlns="http://maven.apache.org/POM/4.0.0">\n'
        "  <modelVersion>4.0.0</modelVersion>\n"
        "  <groupId>local.instacart-lake</groupId><artifactId>spark-jars</artifactId><version>1</version>\n"
        f"  <dependencies>\n{dependencies}  </dependencies>\n"
        "</project>\n"
    )


def fetch(folder: Path | None = None) -> list[Path]:
    """Make `folder` hold exactly the manifest's jars; fetch with Maven only what is missing."""
    folder = folder or jars_dir()
    try:
        return spark_jars(folder)
    except LakeError:
        pass
    maven = shutil.which("mvn")
    if maven is None:
        raise LakeError("Maven (mvn) is needed once to fetch the Spark jars: apt-get install maven "
                        "(Debian/Ubuntu) or brew install maven (macOS)")
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".jars-", dir=folder.parent) as work:
        pom = Path(work) / "pom.xml"
        pom.write_text(render_pom(maven_artifacts()))
        staged = Path(work) / "jars"
        command = [maven, "--batch-mode", "--quiet", "-f", str(pom), "dependency:copy-dependencies",
                   "-DexcludeTransitive=true", f"-DoutputDirectory={staged}"]
        completed = subprocess.run(command, capture_output=True, text=True)
        if completed.returncode != 0:
            errors = [line for line in completed.stdout.splitlines() if "ERROR" in line][:3]
            raise LakeError(f"Maven could not fetch the Spark jars: {' '.join(errors) or completed.stderr.strip()}")
        spark_jars(staged)
        if folder.exists():
            shutil.rmtree(folder)
        staged.rename(folder)
    return spark_jars(folder)


def main(argv: list[str]) -> int:
    if argv:
        print("usage: python -m instacart_lake.jars   (fetches the Spark jars of versions.toml once)",
              file=sys.stderr)
        return 2
    try:
        jars = fetch()
    except LakeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Spark jars: {len(jars)} in {jars[0].parent}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
