"""Defect injection: every line of the manifest is damaged in the way it says, every other line
is exactly the line of the clean files made from the same seed, and the counts are known."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from instacart_lake.errors import InputError
from instacart_lake.generate import MANIFEST_FILE, generate_dataset, scale_named
from instacart_lake.generate.csv_files import LineEdit, TextRows, quote_field, write_csv
from instacart_lake.generate.defects import KINDS_BY_FILE
from instacart_lake.generate.statistics import compute_statistics
from instacart_lake.schemas import EVAL_SETS, SOURCE_TABLES

SEED = 8
RATE = 0.01

RANGES = {"order_number": (1, 100), "order_dow": (0, 6), "order_hour_of_day": (0, 23),
          "days_since_prior_order": (0, 30), "add_to_cart_order": (1, 145), "reordered": (0, 1)}
ID_LIMITS = {"product_id": 49_688, "aisle_id": 134, "department_id": 21}


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> tuple[Path, Path]:
    clean = tmp_path_factory.mktemp("clean")
    damaged = tmp_path_factory.mktemp("damaged")
    generate_dataset(clean, scale_named("small"), SEED)
    generate_dataset(damaged, scale_named("small"), SEED, defect_rate=RATE)
    return clean, damaged


def manifest_of(directory: Path) -> dict[str, dict[int, tuple[str, str]]]:
    by_file: dict[str, dict[int, tuple[str, str]]] = {}
    with (directory / MANIFEST_FILE).open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            by_file.setdefault(row["file"], {})[int(row["line"])] = (row["kind"], row["column"])
    return by_file


def fields(line: bytes) -> list[str]:
    return next(csv.reader(io.StringIO(line.decode("utf-8"))))


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_damage(table: str, kind: str, column: str, damaged: bytes, clean: bytes,
                 previous: bytes | None, order_ids: set[str]) -> None:
    """Assert that `damaged` (the file's line) is `clean` damaged as `kind` says."""
    columns = SOURCE_TABLES[table].column_names
    if kind == "broken_utf8":
        with pytest.raises(UnicodeDecodeError):
            damaged.decode("utf-8")
        return
    if kind == "duplicate_row":
        assert damaged == previous == clean
        return
    if kind == "truncated_last_line":
        assert clean.startswith(damaged) and len(fields(damaged)) < len(columns)
        return
    got, original = fields(damaged), fields(clean)
    if kind == "wrong_column_count":
        assert len(got) != len(columns)
        return
    assert len(got) == len(columns)
    at = columns.index(column)
    assert got[:at] + got[at + 1:] == original[:at] + original[at + 1:]
    value = got[at]
    if kind == "unparsable_number":
        assert not is_number(value)
    elif kind == "out_of_range":
        low, high = RANGES[column]
        assert not low <= float(value) <= high
    elif kind == "empty_key":
        assert value == "" and column in SOURCE_TABLES[table].primary_key
    elif kind == "unknown_id":
        assert (value not in order_ids) if column == "order_id" else int(value) > ID_LIMITS[column]
    elif kind == "invalid_eval_set":
        assert value not in EVAL_SETS
    elif kind == "days_on_first_order":
        assert original[columns.index("order_number")] == "1" and original[at] == ""
        assert 0 <= float(value) <= 30
    else:
        raise AssertionError(f"unexpected kind {kind}")


def test_every_listed_defect_is_in_the_file_and_nothing_else_is_damaged(datasets):
    clean_dir, damaged_dir = datasets
    manifest = manifest_of(damaged_dir)
    order_lines = (clean_dir / "orders.csv").read_bytes().split(b"\n")[1:]
    order_ids = {line.split(b",")[0].decode() for line in order_lines}
    for table_name, table in SOURCE_TABLES.items():
        clean = (clean_dir / table.file_name).read_bytes().split(b"\n")
        damaged_bytes = (damaged_dir / table.file_name).read_bytes()
        damaged = damaged_bytes.split(b"\n")
        listed = manifest.get(table.file_name, {})
        assert clean[-1] == b""
        clean_at, previous = 0, None
        for number, line in enumerate(damaged, start=1):
            if number == len(damaged) and line == b"" and damaged_bytes.endswith(b"\n"):
                break
            if number not in listed:
                assert line == clean[clean_at], (table.file_name, number)
            else:
                kind, column = listed[number]
                if kind == "duplicate_row":
                    check_damage(table_name, kind, column, line, clean[clean_at - 1], previous,
                                 order_ids)
                    previous = line
                    continue
                check_damage(table_name, kind, column, line, clean[clean_at], previous, order_ids)
            previous = line
            clean_at += 1
        assert clean_at == len(clean) - 1, table.file_name
        ends_truncated = any(kind == "truncated_last_line" for kind, _ in listed.values())
        assert damaged_bytes.endswith(b"\n") != ends_truncated


def test_damaged_rows_are_the_known_fraction_and_every_kind_appears(datasets):
    clean_dir, damaged_dir = datasets
    manifest = manifest_of(damaged_dir)
    for table in SOURCE_TABLES.values():
        rows = (clean_dir / table.file_name).read_bytes().count(b"\n") - 1
        listed = manifest.get(table.file_name, {})
        assert len(listed) == round(RATE * rows), table.file_name
        if len(listed) >= len(KINDS_BY_FILE[table.name]):
            assert {kind for kind, _ in listed.values()} == set(KINDS_BY_FILE[table.name])
    assert {"orders.csv", "order_products__prior.csv", "products.csv"} <= set(manifest)
    truth = "ground_truth.csv"
    assert (damaged_dir / truth).read_bytes() == (clean_dir / truth).read_bytes()


def test_a_clean_run_removes_an_old_manifest(tmp_path):
    generate_dataset(tmp_path, scale_named("tiny"), 1, defect_rate=0.05)
    assert (tmp_path / MANIFEST_FILE).is_file()
    generate_dataset(tmp_path, scale_named("tiny"), 1)
    assert not (tmp_path / MANIFEST_FILE).exists()


def test_write_csv_applies_edits_and_reports_line_numbers(tmp_path):
    rows = TextRows([("1", "plain"), ("2", "a, b"), ("3", 'say "hi"'), ("4", "Crème")])
    edits = [
        LineEdit(0, (b"1,plain", b"1,plain"), 1, "duplicate_row"),
        LineEdit(2, (b"3,x,y",), 0, "wrong_column_count"),
        LineEdit(3, (b"4,\"Cr",), 0, "truncated_last_line", ends_file=True),
    ]
    damaged = write_csv(tmp_path / "t.csv", ("id", "name"), rows, edits)
    assert (tmp_path / "t.csv").read_bytes() == (
        b'id,name\n1,plain\n1,plain\n2,"a, b"\n3,x,y\n4,"Cr')
    assert [(d.line, d.kind) for d in damaged] == [
        (3, "duplicate_row"), (5, "wrong_column_count"), (6, "truncated_last_line")]


def test_values_are_quoted_as_in_the_real_files():
    assert quote_field("Banana") == b"Banana"
    assert quote_field("Sweet & Spicy, Cheese") == b'"Sweet & Spicy, Cheese"'
    assert quote_field('12" Pizza') == b'"12"" Pizza"'
    assert quote_field("Jalapeño Chips") == '"Jalapeño Chips"'.encode("utf-8")


def test_statistics_refuse_a_damaged_file_naming_it(datasets):
    _, damaged_dir = datasets
    manifest = manifest_of(damaged_dir)
    with pytest.raises(InputError) as refused:
        compute_statistics(damaged_dir)
    file_name = Path(refused.value.path).name
    assert file_name in manifest and refused.value.line is not None
