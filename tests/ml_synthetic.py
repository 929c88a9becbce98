"""A tiny ML-ready dataset in the layout of the ml zone, with a clear signal: the label is 1
when the first feature (plus a little noise) is above 0.5. Rows carry four features, and a
few features are missing (empty fields)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

FEATURE_COUNT = 4
INFERENCE_ROWS = (60, 40)


def _features(rng: np.random.Generator, rows: int) -> np.ndarray:
    features = rng.random((rows, FEATURE_COUNT))
    features[rng.random((rows, FEATURE_COUNT)) < 0.05] = np.nan
    features[:, 0] = rng.random(rows)
    return features


def _labels(rng: np.random.Generator, features: np.ndarray) -> np.ndarray:
    return (features[:, 0] + 0.1 * rng.standard_normal(len(features)) > 0.5).astype(int)


def _format(value: float) -> str:
    return "" if np.isnan(value) else f"{value:.6f}"


def _write_rows(path: Path, rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(",".join(row) + "\n" for row in rows))


def write_labelled_set(folder: Path, rows_per_file: tuple[int, ...], seed: int) -> None:
    """CSV part files (label, features; no header) and an empty _SUCCESS marker."""
    rng = np.random.default_rng(seed)
    for index, rows in enumerate(rows_per_file):
        features = _features(rng, rows)
        labels = _labels(rng, features)
        _write_rows(folder / f"part-{index:05d}.csv",
                    [[str(label), *map(_format, row)] for label, row in zip(labels, features)])
    (folder / "_SUCCESS").write_text("")


def keyed_rows(seed: int = 3, first_order_id: int = 1000) -> list[tuple[int, int, list[str]]]:
    """(order_id, product_id, feature fields) of a scored set, file by file in order."""
    rng = np.random.default_rng(seed)
    rows = []
    for order_index in range(sum(INFERENCE_ROWS)):
        features = _features(rng, 1)[0]
        rows.append((first_order_id + order_index // 5, 20 + order_index % 5 * 7,
                     [_format(value) for value in features]))
    return rows


def write_inference_set(folder: Path, seed: int = 3, first_order_id: int = 1000) -> list[tuple[int, int, list[str]]]:
    """Part files of a scored set (order_id, product_id, features; no header); the rows written."""
    rows = keyed_rows(seed, first_order_id)
    start = 0
    for index, count in enumerate(INFERENCE_ROWS):
        part = rows[start:start + count]
        _write_rows(folder / f"part-{index:05d}.csv",
                    [[str(order_id), str(product_id), *fields] for order_id, product_id, fields in part])
        start += count
    (folder / "_SUCCESS").write_text("")
    return rows


def write_ml_sets(sets_folder: Path) -> dict[str, list[tuple[int, int, list[str]]]]:
    """train/, validation/ and the scored sets inference/ and validation_ids/ under
    `sets_folder`; the rows of each scored set by folder name."""
    write_labelled_set(sets_folder / "train", (250, 150), seed=1)
    write_labelled_set(sets_folder / "validation", (200,), seed=2)
    return {
        "inference": write_inference_set(sets_folder / "inference"),
        "validation_ids": write_inference_set(sets_folder / "validation_ids", seed=5, first_order_id=5000),
    }
