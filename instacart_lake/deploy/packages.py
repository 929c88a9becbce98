"""What `lake deploy` uploads: the library for the Glue jobs' --extra-py-files, the job scripts,
the Lambda bundle of the handlers (aws-lambda-powertools comes from its public layer, at the
version versions.toml pins), and the SageMaker code, under one prefix named by the
hash of their contents (a new prefix for new code; the same code uploads nothing new).

The archives are reproducible: entries in name order with fixed times and modes.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from instacart_lake.deploy.templates.jobs import LIBRARY_ARCHIVE, glue_job_scripts
from instacart_lake.deploy.templates.orchestration import LAMBDA_BUNDLE
from instacart_lake.ml.job_requests import SCORING_PROGRAM, SOURCE_ARCHIVE_NAME
from instacart_lake.ml.scripts import ML_SCRIPTS_DIR, package_scripts

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "instacart_lake"
# What the jobs and handlers never import: the deployment tools and the DuckDB references.
NOT_SHIPPED = ("instacart_lake/deploy/", "instacart_lake/reference/")
PACKAGE_DATA_SUFFIXES = (".py", ".toml", ".dqdl", ".lark", ".sql", ".properties")
# Folders beside the package that the handlers read at run time.
LAMBDA_EXTRA_FOLDERS = ("crawlers", "api")
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Package:
    key: str
    """Where it goes under the code prefix, e.g. glue_jobs/raw_to_clean.py."""
    data: bytes


def _files(folder: str) -> dict[str, Path]:
    """The shipped files of a folder of the repository, by their path in an archive."""
    root = REPO / folder
    files = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(REPO).as_posix()
        if (path.is_file() and path.suffix in PACKAGE_DATA_SUFFIXES and "__pycache__" not in name
                and not name.startswith(NOT_SHIPPED)):
            files[name] = path
    return files


def zip_archive(files: dict[str, Path]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name].read_bytes())
    return buffer.getvalue()


def build_packages() -> list[Package]:
    library = _files(PACKAGE)
    bundle = dict(library)
    for folder in LAMBDA_EXTRA_FOLDERS:
        if (REPO / folder).is_dir():
            bundle |= _files(folder)
    packages = [Package(LIBRARY_ARCHIVE, zip_archive(library)), Package(LAMBDA_BUNDLE, zip_archive(bundle))]
    packages += [Package(f"glue_jobs/{script.name}", script.read_bytes()) for script in glue_job_scripts()]
    packages += [Package(f"ml/{SOURCE_ARCHIVE_NAME}", package_scripts()),
                 Package(f"ml/{SCORING_PROGRAM}", (ML_SCRIPTS_DIR / SCORING_PROGRAM).read_bytes())]
    return packages


def code_prefix(packages: list[Package]) -> str:
    """code/<first 16 hex digits of the hash of every package's key and bytes>."""
    digest = hashlib.sha256()
    for package in sorted(packages, key=lambda item: item.key):
        digest.update(package.key.encode("utf-8") + b"\0" + hashlib.sha256(package.data).digest())
    return f"code/{digest.hexdigest()[:16]}"
