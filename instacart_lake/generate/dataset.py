"""Generate a synthetic Instacart dataset into a folder: the six files, ground_truth.csv, and
with defects a manifest of the damaged lines.

Files are written under temporary names and renamed when all are complete, so a failed run
leaves no half-written file behind.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from instacart_lake.errors import LakeError
from instacart_lake.generate.catalog import Catalog, build_catalog
from instacart_lake.generate.csv_files import ArrowRows, DamagedLine, RowSource, write_csv
from instacart_lake.generate.defects import MANIFEST_FILE, plan_defects, write_manifest
from instacart_lake.generate.model import ModelParameters
from instacart_lake.generate.scales import Scale, block_generator, catalog_generator, defects_generator, users_generator
from instacart_lake.generate.simulate import UserBlock, simulate_block
from instacart_lake.generate.tables import GROUND_TRUTH_COLUMNS, catalog_rows, order_tables
from instacart_lake.schemas import SOURCE_TABLES

GROUND_TRUTH_FILE = "ground_truth.csv"
MAX_DEFECT_RATE = 0.5

Progress = Callable[[str, int, int], None]
"""Called with (step, done, total) as generation advances."""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GenerationReport:
    directory: Path
    scale: Scale
    seed: int
    rows: dict[str, int]
    """Data rows of each file written, by file name (before damage)."""
    damaged_lines: int


def generate_dataset(directory: Path, scale: Scale, seed: int, defect_rate: float = 0.0,
                     parameters: ModelParameters = ModelParameters(), workers: int = 1,
                     progress: Progress | None = None) -> GenerationReport:
    """Write the dataset of `scale` and `seed` into `directory` (created if needed; files of the
    same names are replaced). With `defect_rate`, that fraction of each file's rows is damaged
    and listed in the manifest. With `workers` > 1, user blocks are simulated in that many
    processes (started with spawn: a calling script needs the `if __name__ == "__main__"`
    guard); the files do not depend on it."""
    if seed < 0:
        raise LakeError(f"the seed must be a non-negative integer, not {seed}")
    if not 0 <= defect_rate <= MAX_DEFECT_RATE:
        raise LakeError(f"the defect rate must be between 0 and {MAX_DEFECT_RATE}, "
                        f"not {defect_rate}")
    if directory.exists() and not directory.is_dir():
        raise LakeError(f"{directory}: not a folder")
    directory.mkdir(parents=True, exist_ok=True)
    report = progress or (lambda step, done, total: None)

    catalog = build_catalog(catalog_generator(seed), parameters)
    blocks = list(_simulate(catalog, parameters, scale, seed, workers, report))
    users_rng = users_generator(seed, scale)
    is_test_user = np.zeros(scale.user_count, dtype=bool)
    test_users = users_rng.choice(scale.user_count, size=scale.test_user_count, replace=False)
    is_test_user[test_users] = True
    tables = order_tables(blocks, is_test_user, users_rng)
    del blocks

    sources: dict[str, RowSource] = {
        **catalog_rows(catalog),
        "orders": tables.orders,
        "order_products__prior": tables.prior_lines,
        "order_products__train": tables.train_lines,
    }
    for name, source in sources.items():
        columns = SOURCE_TABLES[name].column_names
        if isinstance(source, ArrowRows) and tuple(source.table.column_names) != columns:
            raise ValueError(f"{name}: columns {source.table.column_names} differ from the schema")
    id_limits = {"order_id": tables.max_order_id, "product_id": catalog.product_count,
                 "aisle_id": len(catalog.aisle_names),
                 "department_id": len(catalog.department_names)}
    defects_rng = defects_generator(seed, scale)

    written: list[Path] = []
    damaged: dict[str, list[DamagedLine]] = {}
    try:
        for step, (name, source) in enumerate(sources.items()):
            report(f"writing {SOURCE_TABLES[name].file_name}", step, len(sources) + 1)
            edits = (plan_defects(defects_rng, name, source, defect_rate, id_limits,
                                  tables.first_order_rows if name == "orders" else None)
                     if defect_rate else [])
            path = _partial(directory, SOURCE_TABLES[name].file_name)
            written.append(path)
            damaged[SOURCE_TABLES[name].file_name] = write_csv(
                path, SOURCE_TABLES[name].column_names, source, edits)
        report(f"writing {GROUND_TRUTH_FILE}", len(sources), len(sources) + 1)
        path = _partial(directory, GROUND_TRUTH_FILE)
        written.append(path)
        write_csv(path, GROUND_TRUTH_COLUMNS, tables.ground_truth)
        if defect_rate:
            path = _partial(directory, MANIFEST_FILE)
            written.append(path)
            write_manifest(path, damaged)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    for path in written:
        os.replace(path, directory / _final_name(path))
    if not defect_rate:
        (directory / MANIFEST_FILE).unlink(missing_ok=True)
    report("done", len(sources) + 1, len(sources) + 1)
    rows = {SOURCE_TABLES[name].file_name: source.row_count for name, source in sources.items()}
    rows[GROUND_TRUTH_FILE] = tables.ground_truth.row_count
    log.info("generated %s scale, seed %d, into %s: %s", scale.name, seed, directory, rows)
    return GenerationReport(directory=directory, scale=scale, seed=seed, rows=rows,
                            damaged_lines=sum(len(lines) for lines in damaged.values()))


def _simulate(catalog: Catalog, parameters: ModelParameters, scale: Scale, seed: int,
              workers: int, report: Progress) -> Iterator[UserBlock]:
    """The user blocks in order; with several workers, blocks run in parallel processes."""
    tasks = [(catalog, parameters, seed, scale, block) for block in range(scale.block_count)]
    report("simulating users", 0, len(tasks))
    if workers <= 1 or len(tasks) == 1:
        for done, task in enumerate(tasks, start=1):
            yield _simulate_one(task)
            report("simulating users", done, len(tasks))
        return
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=spawn) as pool:
        for done, block in enumerate(pool.map(_simulate_one, tasks), start=1):
            report("simulating users", done, len(tasks))
            yield block


def _simulate_one(task: tuple[Catalog, ModelParameters, int, Scale, int]) -> UserBlock:
    catalog, parameters, seed, scale, block = task
    return simulate_block(block_generator(seed, scale, block), catalog, parameters,
                          scale.users_in_block(block))


def _partial(directory: Path, name: str) -> Path:
    return directory / f".{name}.partial"


def _final_name(path: Path) -> str:
    return path.name[1:-len(".partial")]
