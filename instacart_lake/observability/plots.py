"""The run report's plots, drawn with matplotlib as SVG text to inline in the page (no file, no
network). Each function takes plain values and returns one `<svg>` element."""

from __future__ import annotations

import datetime as dt
import io
from typing import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

COLORS = {"clean": "#4c956c", "quarantined": "#d1495b", "dropped": "#edae49", "current": "#00798c",
          "previous": "#a0a0a0"}
STATE_COLORS = {"succeeded": "#4c956c", "failed": "#d1495b", "running": "#edae49"}


def _svg(figure: Figure) -> str:
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def timeline(stages: Sequence[Mapping]) -> str:
    """A bar per job run from its start to its end (`stage`, `started_at`, `finished_at`,
    `outcome`), seconds from the run's start on the x axis."""
    starts = [dt.datetime.fromisoformat(stage["started_at"]) for stage in stages]
    origin = min(starts)
    figure = Figure(figsize=(9, 0.45 * len(stages) + 1.2))
    axes = figure.subplots()
    for row, (stage, start) in enumerate(zip(stages, starts)):
        end = dt.datetime.fromisoformat(stage["finished_at"]) if stage.get("finished_at") else start
        offset = (start - origin).total_seconds()
        axes.barh(row, max((end - start).total_seconds(), 0.5), left=offset,
                  color=STATE_COLORS.get(stage["outcome"], "#888888"))
    axes.set_yticks(range(len(stages)), [stage["stage"] for stage in stages])
    axes.invert_yaxis()
    axes.set_xlabel("seconds from the start of the run")
    return _svg(figure)


def zone_rows(tables: Mapping[str, Mapping[str, int]]) -> str:
    """Per table, the shares of its raw lines that ended clean, quarantined or dropped."""
    names = list(tables)
    figure = Figure(figsize=(9, 0.45 * len(names) + 1.2))
    axes = figure.subplots()
    left = np.zeros(len(names))
    for part in ("clean", "quarantined", "dropped"):
        shares = np.array([tables[name][part] / max(tables[name]["raw"], 1) for name in names])
        axes.barh(names, shares, left=left, color=COLORS[part], label=part)
        left += shares
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    axes.set_xlabel("share of the table's raw lines")
    axes.legend(loc="lower right", fontsize="small")
    return _svg(figure)


def counts_bar(counts: Mapping[str, float], xlabel: str, title: str = "") -> str:
    names = list(counts)
    figure = Figure(figsize=(9, 0.35 * len(names) + 1.2))
    axes = figure.subplots()
    axes.barh(names, [counts[name] for name in names], color=COLORS["quarantined"])
    axes.invert_yaxis()
    axes.set_xlabel(xlabel)
    axes.set_title(title, fontsize="medium")
    return _svg(figure)


def history(run_labels: Sequence[str], series: Mapping[str, Sequence[float | None]], ylabel: str,
            log_scale: bool = False) -> str:
    """A line per series across the runs (None where a run has no value)."""
    figure = Figure(figsize=(9, 3.6))
    axes = figure.subplots()
    positions = np.arange(len(run_labels))
    for name, values in series.items():
        points = np.array([np.nan if value is None else value for value in values], dtype=np.float64)
        axes.plot(positions, points, marker="o", label=name)
    axes.set_xticks(positions, run_labels, rotation=20, fontsize="small")
    axes.set_ylabel(ylabel)
    if log_scale:
        axes.set_yscale("log")
    axes.legend(fontsize="x-small", ncol=3)
    return _svg(figure)


def feature_histograms(features: Sequence[Mapping]) -> str:
    """Small multiples: each feature's histogram in this run against the previous run
    (`name`, `edges`, `current`, `previous` shares per bin, previous None when there is none)."""
    columns = 4
    rows = max(1, -(-len(features) // columns))
    figure = Figure(figsize=(12, 2.4 * rows))
    grid = figure.subplots(rows, columns, squeeze=False)
    for index, axes in enumerate(grid.flat):
        if index >= len(features):
            axes.set_axis_off()
            continue
        feature = features[index]
        edges = np.asarray(feature["edges"])
        axes.stairs(feature["current"], edges, fill=True, alpha=0.6, color=COLORS["current"], label="this run")
        if feature["previous"] is not None:
            axes.stairs(feature["previous"], edges, color=COLORS["previous"], linewidth=1.5, label="previous run")
        axes.set_title(feature["name"], fontsize="small")
        axes.tick_params(labelsize="x-small")
    grid.flat[0].legend(fontsize="x-small")
    return _svg(figure)


def mean_f1(methods: Mapping[str, float]) -> str:
    names = list(methods)
    figure = Figure(figsize=(6, 2.8))
    axes = figure.subplots()
    bars = axes.barh(names, [methods[name] for name in names], color=COLORS["current"])
    axes.bar_label(bars, fmt="%.4f", fontsize="small")
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    axes.set_xlabel("mean F1 over the validation orders")
    return _svg(figure)


def calibration(mean_probability: Sequence[float], share_positive: Sequence[float],
                candidates: Sequence[int]) -> str:
    figure = Figure(figsize=(4.5, 4))
    axes = figure.subplots()
    axes.plot([0, 1], [0, 1], linestyle="--", color=COLORS["previous"], label="perfectly calibrated")
    axes.plot(mean_probability, share_positive, marker="o", color=COLORS["current"], label="model")
    for x, y, count in zip(mean_probability, share_positive, candidates):
        axes.annotate(f"{count:,}", (x, y), textcoords="offset points", xytext=(4, -10), fontsize="x-small")
    axes.set(xlim=(0, 1), ylim=(0, 1), xlabel="mean predicted probability", ylabel="share reordered")
    axes.legend(fontsize="x-small", loc="upper left")
    return _svg(figure)


def precision_recall(recall: Sequence[float], precision: Sequence[float], average_precision: float | None) -> str:
    figure = Figure(figsize=(4.5, 4))
    axes = figure.subplots()
    axes.plot(recall, precision, color=COLORS["current"])
    axes.set(xlim=(0, 1), ylim=(0, 1), xlabel="recall", ylabel="precision")
    if average_precision is not None:
        axes.set_title(f"average precision {average_precision:.4f}", fontsize="medium")
    return _svg(figure)


def f1_by_basket_size(sizes: Sequence[str], mean_f1_values: Sequence[float], orders: Sequence[int]) -> str:
    figure = Figure(figsize=(6, 3.2))
    axes = figure.subplots()
    bars = axes.bar(sizes, mean_f1_values, color=COLORS["current"])
    axes.bar_label(bars, labels=[f"{count:,}" for count in orders], fontsize="x-small")
    axes.set(ylim=(0, 1), xlabel="reordered products in the order (true basket size)",
             ylabel="mean F1 (bar label: orders)")
    return _svg(figure)
