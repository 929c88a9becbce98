"""What killed runs leave in the lake (staging files, `_temporary` folders, data files no commit
references) removed by the next commit to a table and by `lake vacuum`, which also runs Delta
VACUUM; every version a retention keeps stays readable."""

from __future__ import annotations

from pathlib import Path

from deltalake import DeltaTable

from instacart_lake import cli, lake_lock
from instacart_lake.delta import DeltaTableIO
from instacart_lake.ingest import ingest
from instacart_lake.locations import uri_to_path

SCHEMA = "order_id int, user_id int"


def write_version(spark, uri: str, rows, run_id: str) -> int:
    # one partition: Delta leaves an empty partition's file behind, referenced by no commit
    return DeltaTableIO(spark).write(spark.createDataFrame(rows, SCHEMA).coalesce(1), uri, mode="overwrite",
                                     run_id=run_id, job_name="test")


def leave_orphans(spark, uri: str) -> set[Path]:
    """What a write killed after its data files and before its commit leaves in the table folder
    (its Parquet files and their checksums)."""
    folder = Path(uri_to_path(uri))
    before = set(folder.rglob("*"))
    spark.createDataFrame([(9, 99)], SCHEMA).coalesce(1).write.mode("append").parquet(f"file://{folder}")
    return {path for path in set(folder.rglob("*")) - before
            if path.is_file() and (path.name.endswith(".parquet") or path.name.endswith(".parquet.crc"))}


def rows(uri: str, version: int | None = None) -> list[tuple]:
    table = DeltaTable(uri_to_path(uri), version=version)
    return sorted((row["order_id"], row["user_id"]) for row in table.to_pyarrow_table().to_pylist())


def lake_vacuum(lake, capsys, *arguments: str) -> tuple[int, list[str], str]:
    code = cli.main(["--lake-root", str(Path(uri_to_path(lake.locations.zone_uri("raw"))).parent),
                     "vacuum", *arguments])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def line_of(lines: list[str], location: str) -> str:
    return next(line for line in lines if line.startswith(f"{location}:"))


def test_lake_vacuum_removes_leftovers_then_old_versions_and_keeps_what_is_read(spark, lake, capsys):
    orders_uri = lake.locations.table_uri("clean", "orders")
    write_version(spark, orders_uri, [(1, 10)], "r1")
    write_version(spark, orders_uri, [(2, 20)], "r2")
    orphans = leave_orphans(spark, orders_uri)
    staged = Path(uri_to_path(lake.locations.raw_staging_uri())) / "0b1c.csv"
    staged.parent.mkdir(parents=True)
    staged.write_text("order_id\n1\n")
    temporary = Path(uri_to_path(lake.locations.ml_set_uri("train"))) / "_temporary" / "0" / "part-00000.csv"
    temporary.parent.mkdir(parents=True)
    temporary.write_text("1,0\n")
    orphan_bytes = sum(path.stat().st_size for path in orphans)
    assert len(orphans) == 2

    code, lines, _ = lake_vacuum(lake, capsys, "--dry-run")
    assert code == 0
    assert line_of(lines, orders_uri) == (f"{orders_uri}: would remove 2 files ({orphan_bytes:,} bytes) that no "
                                          "commit references, 0 files (0 bytes) older than 168 h that no version reads")
    assert line_of(lines, lake.locations.raw_staging_uri()).endswith("would remove 1 file (11 bytes) staged")
    assert line_of(lines, lake.locations.zone_uri("ml")).endswith("would remove 1 file (4 bytes) in _temporary folders")
    assert all(path.exists() for path in [*orphans, staged, temporary])

    code, lines, _ = lake_vacuum(lake, capsys)
    assert code == 0
    assert line_of(lines, orders_uri).startswith(f"{orders_uri}: removed 2 files ({orphan_bytes:,} bytes)")
    assert not any(path.exists() for path in [*orphans, staged, temporary.parent.parent])
    assert staged.parent.is_dir()
    assert rows(orders_uri, version=0) == [(1, 10)]
    assert rows(orders_uri) == [(2, 20)]

    code, lines, _ = lake_vacuum(lake, capsys, "--retain-hours", "0")
    assert code == 0
    assert line_of(lines, orders_uri).startswith(f"{orders_uri}: removed 0 files (0 bytes) that no commit "
                                                 "references, 1 file (")
    assert line_of(lines, orders_uri).endswith("older than 0 h that no version reads")
    assert rows(orders_uri) == [(2, 20)]


def test_the_next_commit_to_a_table_removes_the_files_of_a_killed_write_but_not_younger_ones(spark, lake):
    orders_uri = lake.locations.table_uri("clean", "orders")
    write_version(spark, orders_uri, [(1, 10)], "r1")
    dead = leave_orphans(spark, orders_uri)
    table_io = DeltaTableIO(spark)   # the next job starts
    live = leave_orphans(spark, orders_uri)   # as if a write of that job were under way

    table_io.write(spark.createDataFrame([(2, 20)], SCHEMA).coalesce(1), orders_uri, mode="append", run_id="r2",
                   job_name="test")

    assert not any(path.exists() for path in dead)
    assert all(path.exists() for path in live)
    assert rows(orders_uri) == [(1, 10), (2, 20)]


def test_lake_vacuum_is_refused_while_a_run_holds_the_lake(lake, capsys):
    with lake_lock.hold(lake, "jr_holder", "lake run"):
        code, lines, err = lake_vacuum(lake, capsys)
    assert code == lake_lock.EX_TEMPFAIL
    assert lines == []
    assert err.startswith("lake vacuum: error: ")
    assert "the lake is locked by run jr_holder" in err
    assert len(err.splitlines()) == 1


def test_a_negative_retention_is_a_one_line_error(lake, capsys):
    code, lines, err = lake_vacuum(lake, capsys, "--retain-hours", "-1")
    assert (code, lines) == (1, [])
    assert err == "lake vacuum: error: --retain-hours -1: a retention cannot be negative\n"


def test_the_next_ingest_removes_the_staging_files_of_a_killed_one(lake, tmp_path):
    staging = Path(uri_to_path(lake.locations.raw_staging_uri()))
    staging.mkdir(parents=True)
    (staging / "5f3a.csv").write_text("aisle_id,aisle\n1,fresh fruits\n")
    source = tmp_path / "source"
    source.mkdir()
    (source / "aisles.csv").write_text("aisle_id,aisle\n1,fresh fruits\n")

    report = ingest(lake, [str(source)], "jr_next")

    assert [(landing.table, landing.row_count) for landing in report.landed] == [("aisles", 1)]
    assert list(staging.iterdir()) == []
