"""The generated dataset: shapes and rules of every file, reorder flags consistent with each
user's history, ground truth complete and calibrated, determinism, statistics in tolerance."""

from __future__ import annotations

import argparse
import csv
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from instacart_lake.commands import generate as generate_command
from instacart_lake.commands import stats as stats_command
from instacart_lake.errors import LakeError
from instacart_lake.generate import GROUND_TRUTH_FILE, MANIFEST_FILE, Scale, generate_dataset, scale_named
from instacart_lake.generate.statistics import compare_with_real, compute_statistics
from instacart_lake.generate.tables import _lines_by_order_id
from instacart_lake.schemas import EVAL_SETS, SOURCE_TABLES

SMALL_SEED = 5


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("small")
    generate_dataset(directory, scale_named("small"), SMALL_SEED)
    return directory


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        header, *rows = csv.reader(handle)
    return header, rows


def orders_of(directory: Path) -> list[dict]:
    header, rows = read_rows(directory / "orders.csv")
    return [dict(zip(header, row)) for row in rows]


def lines_of(directory: Path, eval_set: str) -> list[tuple[int, int, int, int]]:
    _, rows = read_rows(directory / f"order_products__{eval_set}.csv")
    return [tuple(int(value) for value in row) for row in rows]


def test_files_have_the_real_names_headers_and_column_order(small):
    expected = {table.file_name for table in SOURCE_TABLES.values()} | {GROUND_TRUTH_FILE}
    assert {path.name for path in small.iterdir()} == expected
    for table in SOURCE_TABLES.values():
        header, rows = read_rows(small / table.file_name)
        assert tuple(header) == table.column_names
        assert all(len(row) == len(header) for row in rows), table.file_name
    header, _ = read_rows(small / GROUND_TRUTH_FILE)
    assert header == ["order_id", "user_id", "eval_set", "product_id", "probability", "in_order"]


def test_catalog_has_the_real_sizes_and_names(small):
    _, aisles = read_rows(small / "aisles.csv")
    _, departments = read_rows(small / "departments.csv")
    _, products = read_rows(small / "products.csv")
    assert [row[0] for row in aisles] == [str(i) for i in range(1, 135)]
    assert [row[0] for row in departments] == [str(i) for i in range(1, 22)]
    assert [row[0] for row in products] == [str(i) for i in range(1, 49_689)]
    assert "missing" in {row[1] for row in aisles} and "missing" in {row[1] for row in departments}
    names = {int(row[0]): row[1] for row in products}
    assert names[24852] == "Banana"
    assert len(set(names.values())) == len(names)
    assert all(1 <= int(row[2]) <= 134 and 1 <= int(row[3]) <= 21 for row in products)
    aisle_department = {int(row[2]): int(row[3]) for row in products}
    assert len(aisle_department) == 134


def test_formatting_quirks_of_the_real_files(small):
    text = (small / "orders.csv").read_text(encoding="utf-8").splitlines()
    hours = [line.split(",")[5] for line in text[1:]]
    days = [line.split(",")[6] for line in text[1:]]
    assert all(len(hour) == 2 for hour in hours) and "08" in hours
    assert all(day == "" or day.endswith(".0") for day in days) and "15.0" in days
    product_lines = (small / "products.csv").read_text(encoding="utf-8").splitlines()
    quoted = [line for line in product_lines if '"' in line]
    assert any("," in line.split('"')[1] for line in quoted)
    assert any(not line.isascii() for line in quoted)
    assert all(line.isascii() or '"' in line for line in product_lines)
    assert any('""' in line for line in quoted)


def test_orders_follow_the_eval_set_and_value_rules(small):
    by_user = defaultdict(list)
    for order in orders_of(small):
        by_user[int(order["user_id"])].append(order)
    assert sorted(by_user) == list(range(1, 2001))
    order_ids = [int(o["order_id"]) for orders in by_user.values() for o in orders]
    assert sorted(order_ids) == list(range(1, len(order_ids) + 1))
    for orders in by_user.values():
        numbers = [int(o["order_number"]) for o in orders]
        assert numbers == list(range(1, len(orders) + 1)) and 4 <= len(orders) <= 100
        assert [o["eval_set"] for o in orders[:-1]] == ["prior"] * (len(orders) - 1)
        assert orders[-1]["eval_set"] in ("train", "test")
        for order in orders:
            assert 0 <= int(order["order_dow"]) <= 6 and 0 <= int(order["order_hour_of_day"]) <= 23
            days = order["days_since_prior_order"]
            assert (days == "") == (order["order_number"] == "1")
            assert days == "" or 0 <= float(days) <= 30
    last_sets = [orders[-1]["eval_set"] for orders in by_user.values()]
    assert last_sets.count("test") == scale_named("small").test_user_count
    assert set(last_sets) | {"prior"} == set(EVAL_SETS)


def test_order_lines_follow_the_rules(small):
    eval_set = {int(o["order_id"]): o["eval_set"] for o in orders_of(small)}
    for name in ("prior", "train"):
        lines = lines_of(small, name)
        assert lines == sorted(lines, key=lambda line: (line[0], line[2]))
        assert len({(order, product) for order, product, _, _ in lines}) == len(lines)
        carts = defaultdict(list)
        for order, product, cart, reordered in lines:
            assert eval_set[order] == name and 1 <= product <= 49_688 and reordered in (0, 1)
            carts[order].append(cart)
        assert all(cart == list(range(1, len(cart) + 1)) for cart in carts.values())
        assert max(len(cart) for cart in carts.values()) <= 145
        assert set(carts) == {order for order, kind in eval_set.items() if kind == name}


def test_reordered_is_one_exactly_when_the_user_bought_the_product_before(small):
    orders = sorted(orders_of(small), key=lambda o: (int(o["user_id"]), int(o["order_number"])))
    products_of = defaultdict(list)
    for order, product, _, reordered in lines_of(small, "prior") + lines_of(small, "train"):
        products_of[order].append((product, reordered))
    seen: dict[int, set] = defaultdict(set)
    checked = 0
    for order in orders:
        bought_before = seen[int(order["user_id"])]
        for product, reordered in products_of[int(order["order_id"])]:
            assert reordered == (product in bought_before)
            checked += 1
        bought_before.update(product for product, _ in products_of[int(order["order_id"])])
    assert checked > 300_000


def test_ground_truth_lists_every_candidate_of_every_last_order(small):
    orders = orders_of(small)
    user_of = {int(o["order_id"]): int(o["user_id"]) for o in orders}
    last = {int(o["user_id"]): o for o in orders if o["eval_set"] != "prior"}
    candidates = {(user_of[order], product) for order, product, _, _ in lines_of(small, "prior")}
    reordered_in_train = {(user_of[order], product)
                          for order, product, _, reordered in lines_of(small, "train") if reordered}
    header, rows = read_rows(small / GROUND_TRUTH_FILE)
    truth = [dict(zip(header, row)) for row in rows]
    assert {(int(t["user_id"]), int(t["product_id"])) for t in truth} == candidates
    assert len(truth) == len(candidates)
    for row in truth:
        user_last = last[int(row["user_id"])]
        assert row["order_id"] == user_last["order_id"] and row["eval_set"] == user_last["eval_set"]
        assert 0 <= float(row["probability"]) <= 1
        if float(row["probability"]) == 0:
            assert row["in_order"] == "0"
    train_in_order = {(int(t["user_id"]), int(t["product_id"]))
                      for t in truth if t["eval_set"] == "train" and t["in_order"] == "1"}
    assert train_in_order == reordered_in_train
    assert any(t["eval_set"] == "test" and t["in_order"] == "1" for t in truth)


def test_ground_truth_probabilities_are_calibrated(small):
    header, rows = read_rows(small / GROUND_TRUTH_FILE)
    probability = np.array([float(row[4]) for row in rows])
    in_order = np.array([int(row[5]) for row in rows])
    assert in_order.mean() == pytest.approx(probability.mean(), rel=0.03)
    edges = np.quantile(probability[probability > 0], np.linspace(0, 1, 11))
    for low, high in zip(edges[:-1], edges[1:]):
        chosen = (probability > low) & (probability <= high)
        expected = probability[chosen].mean()
        standard_error = np.sqrt(expected * (1 - expected) / chosen.sum())
        assert abs(in_order[chosen].mean() - expected) < 4 * standard_error + 1e-3


def test_same_seed_and_scale_give_byte_identical_files(tmp_path):
    for name in ("first", "second"):
        generate_dataset(tmp_path / name, scale_named("tiny"), 42)
    generate_dataset(tmp_path / "other", scale_named("tiny"), 43)
    for path in (tmp_path / "first").iterdir():
        assert path.read_bytes() == (tmp_path / "second" / path.name).read_bytes(), path.name
    assert (tmp_path / "first/orders.csv").read_bytes() != (tmp_path / "other/orders.csv").read_bytes()


def test_output_does_not_depend_on_the_number_of_workers(tmp_path):
    three_blocks = Scale("three blocks", 300, block_users=100)
    generate_dataset(tmp_path / "one", three_blocks, 9, workers=1)
    generate_dataset(tmp_path / "two", three_blocks, 9, workers=2)
    for path in (tmp_path / "one").iterdir():
        assert path.read_bytes() == (tmp_path / "two" / path.name).read_bytes(), path.name


def test_statistics_at_small_scale_are_within_tolerance_of_the_real_ones(small):
    comparisons = {c.target.key: c for c in compare_with_real(compute_statistics(small))}
    # The largest basket is an extreme of 34 thousand orders, not of the real 3.4 million.
    largest = comparisons.pop("basket_max")
    assert 100 <= largest.value <= 145
    assert [key for key, c in comparisons.items() if not c.in_tolerance] == []
    assert comparisons["users"].value == 2000
    assert 0.38 <= comparisons["oracle_f1"].value <= 0.50


def test_lines_are_placed_in_order_id_then_cart_order():
    order_ids = np.array([3, 1, 2], dtype=np.int32)
    line_order = np.array([0, 0, 1, 2, 2, 2])
    table = _lines_by_order_id(order_ids, line_order, np.array([30, 31, 10, 20, 21, 22]),
                               np.array([1, 2, 1, 1, 2, 3]), np.array([0, 1, 0, 1, 1, 0]))
    assert table.to_pydict() == {
        "order_id": [1, 2, 2, 2, 3, 3],
        "product_id": [10, 20, 21, 22, 30, 31],
        "add_to_cart_order": [1, 1, 2, 3, 1, 2],
        "reordered": [0, 1, 1, 0, 0, 1],
    }


@pytest.mark.parametrize("arguments, message", [
    ({"seed": 1, "defect_rate": 0.7}, "defect rate"),
    ({"seed": -1}, "seed"),
])
def test_bad_arguments_are_refused(tmp_path, arguments, message):
    with pytest.raises(LakeError, match=message):
        generate_dataset(tmp_path, scale_named("tiny"), **arguments)
    assert list(tmp_path.iterdir()) == []


def test_unknown_scale_is_refused():
    with pytest.raises(LakeError, match="unknown scale 'huge'"):
        scale_named("huge")


def _command_args(module, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return parser.parse_args(argv)


def test_generate_and_stats_commands(tmp_path, lake, capsys):
    out = tmp_path / "data"
    args = _command_args(generate_command, ["--scale", "tiny", "--seed", "3", "--out", str(out)])
    assert generate_command.run(args, lake) == 0
    assert (out / "orders.csv").is_file() and not (out / MANIFEST_FILE).exists()
    capsys.readouterr()
    assert stats_command.run(_command_args(stats_command, [str(out), "--json"]), lake) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["users"]["value"] == 100 and report["users"]["real"] == 100
    assert report["products"] == {"label": "products", "value": 49688, "real": 49688,
                                  "in_tolerance": True}
    assert report["top_product"]["value"] == "Banana"
    assert 0 <= report["oracle_f1"]["value"] <= 1
    assert stats_command.run(_command_args(stats_command, [str(out)]), lake) == 0
    assert "oracle mean F1" in capsys.readouterr().out
