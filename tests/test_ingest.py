"""Batch ingestion: landing layout, manifest, idempotency, versions, atomicity and bad input."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil

import pytest

from instacart_lake import storage
from instacart_lake.cli import main
from instacart_lake.context import Lake
from instacart_lake.errors import InputError, LakeError
from instacart_lake.ingest import ingest, read_manifest
from instacart_lake.ingest import landed_files as table_landed_files
from instacart_lake.jobs.raw_to_clean import JOB_NAME, run_raw_to_clean
from instacart_lake.ledger import Ledger
from instacart_lake.locations import uri_to_path
from instacart_lake.schemas import SOURCE_TABLES

DAY = dt.date(2026, 11, 28)
AISLES = b'aisle_id,aisle\r\n1,"prepared soups salads"\r\n2,missing\r\n'
DEPARTMENTS = b"\xef\xbb\xbfdepartment_id,department\n1,frozen\n2,missing\n3,bakery"


@pytest.fixture
def source_dir(tmp_path):
    folder = tmp_path / "source"
    folder.mkdir()
    (folder / "aisles.csv").write_bytes(AISLES)
    (folder / "departments.csv").write_bytes(DEPARTMENTS)
    (folder / "ground_truth.csv").write_bytes(b"order_id\n1\n")
    return folder


def landed_files(lake):
    """The raw zone's files but the batch markers."""
    return [uri for uri in storage.list_files(lake.locations.zone_uri("raw")) if "/_batches/" not in uri]


def test_lands_each_file_in_its_table_partition_with_a_manifest(lake, source_dir):
    report = ingest(lake, [str(source_dir)], "jr_1", DAY)

    raw = lake.locations.zone_uri("raw")
    assert landed_files(lake) == [
        f"{raw}/aisles/ingest_date=2026-11-28/aisles.csv",
        f"{raw}/departments/ingest_date=2026-11-28/departments.csv",
    ]
    assert storage.read_bytes(report.landed[0].uri) == AISLES
    manifest = {m.source_name: m for m in read_manifest(lake)}
    assert manifest["aisles.csv"].row_count == 2
    assert manifest["departments.csv"].row_count == 3  # the last line has no line end
    assert manifest["aisles.csv"].sha256 == hashlib.sha256(AISLES).hexdigest()
    assert manifest["aisles.csv"].size_bytes == len(AISLES)
    assert manifest["aisles.csv"].version == 1
    assert manifest["aisles.csv"].run_id == "jr_1"
    assert report.ignored == [str(source_dir / "ground_truth.csv")]  # the generator's sidecar, reported
    assert report.batch_uri == f"{raw}/_batches/jr_1.json"
    assert json.loads(storage.read_text(report.batch_uri)) == {"run_id": "jr_1", "files": landed_files(lake)}


def test_reingesting_identical_bytes_is_a_no_op(lake, source_dir):
    ingest(lake, [str(source_dir)], "jr_1", DAY)
    report = ingest(lake, [str(source_dir)], "jr_2", DAY + dt.timedelta(days=1))

    assert report.landed == []
    assert sorted(report.unchanged) == [str(source_dir / "aisles.csv"), str(source_dir / "departments.csv")]
    assert len(landed_files(lake)) == 2
    assert report.batch_uri is None
    assert storage.list_files(f"{lake.locations.zone_uri('raw')}/_batches") == [
        f"{lake.locations.zone_uri('raw')}/_batches/jr_1.json"]
    assert len(read_manifest(lake)) == 2


def test_a_changed_file_lands_as_a_new_version(lake, source_dir):
    ingest(lake, [str(source_dir)], "jr_1", DAY)
    (source_dir / "aisles.csv").write_bytes(AISLES + b"3,fresh fruits\r\n")

    same_day = ingest(lake, [str(source_dir / "aisles.csv")], "jr_2", DAY)
    next_day = ingest(lake, [str(source_dir / "aisles.csv")], "jr_3", DAY + dt.timedelta(days=1))

    raw = lake.locations.zone_uri("raw")
    assert [landing.uri for landing in same_day.landed] == [f"{raw}/aisles/ingest_date=2026-11-28/aisles.v2.csv"]
    assert next_day.landed == []  # the same bytes as version 2
    assert [m.version for m in read_manifest(lake) if m.source_name == "aisles.csv"] == [1, 2]
    assert same_day.landed[0].row_count == 3


def test_a_copy_that_dies_half_way_leaves_nothing_visible(lake, source_dir):
    def die_after_first_chunk(name, size):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest(lake, [str(source_dir / "aisles.csv")], "jr_1", DAY, on_progress=die_after_first_chunk)

    assert landed_files(lake) == []
    assert read_manifest(lake) == []
    report = ingest(lake, [str(source_dir / "aisles.csv")], "jr_2", DAY)
    assert [landing.row_count for landing in report.landed] == [2]


def test_a_landing_missing_from_the_manifest_is_recorded_and_not_landed_again(lake, source_dir):
    ingest(lake, [str(source_dir)], "jr_1", DAY)
    storage.delete(lake.locations.ingest_manifest_uri)  # as if the run died after the rename

    report = ingest(lake, [str(source_dir)], "jr_2", DAY)

    assert report.landed == []
    assert sorted(m.source_name for m in read_manifest(lake)) == ["aisles.csv", "departments.csv"]


@pytest.mark.parametrize(
    ("content", "rows"),
    [
        (b'aisle_id,aisle\r\n1,"two\r\nlines"\r\n2,lone\rcr\r\n', 2),  # a quoted CRLF, a lone CR
        (b'aisle_id,aisle\n1,"open\n2,x\n3,y', 3),                   # a quote that never closes
        (b'aisle_id,aisle\n1,"a\n' + b"x\n" * 14 + b'b"\n2,z\n', 2),  # closed on the 16th line
        (b'aisle_id,aisle\n1,"a\n' + b"x\n" * 15 + b'b"\n2,z\n', 18),  # not closed within 16
    ],
)
def test_the_manifest_counts_records_as_job_1_reads_them(lake, tmp_path, content, rows):
    path = tmp_path / "aisles.csv"
    path.write_bytes(content)

    report = ingest(lake, [str(path)], "jr_1", DAY)

    assert [landing.row_count for landing in report.landed] == [rows]
    storage.delete(lake.locations.ingest_manifest_uri)  # re-measured from the landed file
    ingest(lake, [str(path)], "jr_2", DAY)
    assert [landing.row_count for landing in read_manifest(lake)] == [rows]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "aisles.csv:1: file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "aisles.csv:3: not a CSV text file (NUL byte)"),
        (b"aisle_id,aisle\n" + b"1,soup\n" * 20_000 + b"2,bin\x00ary\n",  # past the 64 KiB of the head checks
         "aisles.csv:20002: not a CSV text file (NUL byte)"),
        (b"aisle_id;aisle\n1;x\n",
         "aisles.csv:1: header does not match aisles.csv: expected aisle_id,aisle, found aisle_id;aisle"),
    ],
)
def test_bad_files_are_refused_before_anything_lands(lake, source_dir, content, message):
    (source_dir / "aisles.csv").write_bytes(content)

    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ingest(lake, [str(source_dir)], "jr_1", DAY)

    assert landed_files(lake) == []


def test_unknown_or_missing_paths_are_refused(lake, source_dir, tmp_path):
    (tmp_path / "customers.csv").write_bytes(b"id\n1\n")
    with pytest.raises(InputError, match="unknown file 'customers.csv'"):
        ingest(lake, [str(source_dir), str(tmp_path / "customers.csv")], "jr_1", DAY)
    with pytest.raises(InputError, match="no such file or folder"):
        ingest(lake, [str(tmp_path / "nowhere")], "jr_1", DAY)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="folder holds none of the six Instacart files"):
        ingest(lake, [str(empty)], "jr_1", DAY)
    assert landed_files(lake) == []


def test_a_lake_root_that_cannot_be_written_is_refused(tmp_path, source_dir, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the lake root's parent should be")
    monkeypatch.delenv("LAKE_ROOT", raising=False)

    from instacart_lake.context import Lake

    lake = Lake.from_environment(root=blocker / "lake", profile="local")
    with pytest.raises(LakeError, match="cannot write to the lake"):
        ingest(lake, [str(source_dir)], "jr_1", DAY)


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda d: (d / "aisles.csv").write_bytes(b""), "aisles.csv:1: file is empty"),
        (lambda d: (d / "orders.txt").write_text("x"), "orders.txt: unknown file 'orders.txt'"),
    ],
)
def test_the_cli_prints_one_line_and_exits_non_zero(tmp_path, source_dir, capsys, setup, expected):
    setup(source_dir)
    paths = [str(path) for path in sorted(source_dir.iterdir())
             if path.suffix in (".csv", ".txt") and path.name != "ground_truth.csv"]
    code = main(["--lake-root", str(tmp_path / "lake"), "ingest", *paths])

    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1 and expected in err[0] and err[0].startswith("lake ingest: error: ")
    assert not (tmp_path / "lake" / "raw" / "aisles").exists()


def test_the_cli_lands_files_and_reports_json(tmp_path, source_dir, capsys):
    code = main(["--lake-root", str(tmp_path / "lake"), "ingest", str(source_dir), "--json",
                 "--ingest-date", "2026-11-28"])

    import json

    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(m["table"], m["row_count"]) for m in report["landed"]] == [("aisles", 2), ("departments", 3)]
    assert (tmp_path / "lake" / "raw" / "aisles" / "ingest_date=2026-11-28" / "aisles.csv").read_bytes() == AISLES
    assert uri_to_path(report["landed"][0]["uri"]).endswith("aisles.csv")


ORDERS = (b"order_id,user_id,eval_set,order_number,order_dow,order_hour_of_day,days_since_prior_order\n"
          b"1,1,prior,1,2,8,\n")
NEAR_MISS = "not one of the six Instacart file names, which are case-sensitive: did you mean orders.csv?"


@pytest.mark.parametrize("name", ["orders.CSV", "Orders.csv", "ORDERS.csv"])
def test_a_near_miss_named_explicitly_is_refused_with_the_expected_name(lake, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(ORDERS)

    with pytest.raises(InputError) as refused:
        ingest(lake, [str(path)], "jr_1", DAY)

    assert str(refused.value) == f"{path}: {NEAR_MISS}"
    assert landed_files(lake) == []


def test_a_near_miss_in_a_folder_refuses_the_whole_folder_in_one_line(tmp_path, source_dir, capsys):
    (source_dir / "ORDERS.csv").write_bytes(ORDERS)

    code = main(["--lake-root", str(tmp_path / "lake"), "ingest", str(source_dir)])

    assert code == 1
    assert capsys.readouterr().err.splitlines() == [f"lake ingest: error: {source_dir / 'ORDERS.csv'}: {NEAR_MISS}"]
    assert not (tmp_path / "lake" / "raw" / "aisles").exists()


def test_a_folder_named_like_a_source_file_is_refused(lake, source_dir, tmp_path):
    (source_dir / "orders.csv").mkdir()
    (source_dir / "orders.csv" / "part-00000.csv").write_bytes(ORDERS)
    refusal = ("a folder, not the file orders.csv (a source is one CSV file, not a folder of parts): "
               "give the file itself")

    with pytest.raises(InputError) as in_a_folder:
        ingest(lake, [str(source_dir)], "jr_1", DAY)
    with pytest.raises(InputError) as given:
        ingest(lake, [str(source_dir / "orders.csv")], "jr_1", DAY)

    assert str(in_a_folder.value) == str(given.value) == f"{source_dir / 'orders.csv'}: {refusal}"
    assert landed_files(lake) == []


def test_other_files_of_a_folder_are_reported_as_not_ingested(tmp_path, source_dir, capsys):
    (source_dir / "README.md").write_text("the six files of 2026-11-28\n")
    (source_dir / "defects.csv").write_bytes(b"file,line\n")
    (source_dir / "notes").mkdir()

    code = main(["--lake-root", str(tmp_path / "lake"), "ingest", str(source_dir)])

    out = capsys.readouterr().out.splitlines()
    assert code == 0
    passed_over = ["README.md", "defects.csv", "ground_truth.csv", "notes"]
    assert [line for line in out if line.startswith("not ingested: ")] == [
        f"not ingested: {source_dir / name} (not one of the six Instacart files)" for name in passed_over]
    assert out[-1] == "2 landed, 0 unchanged, 4 not ingested"


def test_job_1_reads_exactly_the_files_ingest_lands_and_refuses_any_other(lake, source_dir):
    ingest(lake, [str(source_dir)], "jr_1", DAY)
    (source_dir / "aisles.csv").write_bytes(AISLES + b"3,fresh fruits\r\n")
    ingest(lake, [str(source_dir / "aisles.csv")], "jr_2", DAY)
    partition = f"{lake.locations.zone_uri('raw')}/aisles/ingest_date=2026-11-28"
    aisles = SOURCE_TABLES["aisles"]

    assert table_landed_files(lake, aisles) == [f"{partition}/aisles.csv", f"{partition}/aisles.v2.csv"]

    storage.write_bytes_atomic(f"{partition}/aisles.CSV", AISLES)
    with pytest.raises(LakeError) as refused:
        table_landed_files(lake, aisles)
    assert str(refused.value) == (
        f"{partition}/aisles.CSV: not a file that lake ingest lands (aisles/ingest_date=YYYY-MM-DD/aisles.csv or "
        "aisles.vN.csv), so job 1 does not read it: land the file with `lake ingest`, or move it out of the raw zone")
    ingest(lake, [str(source_dir / "departments.csv")], "jr_3", DAY)  # the stray file is not adopted
    assert [m.uri for m in read_manifest(lake) if m.table == "aisles"] == [f"{partition}/aisles.csv",
                                                                           f"{partition}/aisles.v2.csv"]


def test_the_manifest_and_the_ledger_store_uris_relative_to_the_raw_zone(lake, source_dir):
    ingest(lake, [str(source_dir)], "jr_1", DAY)
    raw = lake.locations.zone_uri("raw")
    aisles, departments = (f"{raw}/{name}/ingest_date=2026-11-28/{name}.csv" for name in ("aisles", "departments"))
    ledger = Ledger(lake.locations.ledger_uri("raw_to_clean"), raw)
    ledger.record([aisles], "aisles", "jr_1")

    manifest_lines = storage.read_text(lake.locations.ingest_manifest_uri).splitlines()
    assert [json.loads(line)["uri"] for line in manifest_lines] == [
        "aisles/ingest_date=2026-11-28/aisles.csv", "departments/ingest_date=2026-11-28/departments.csv"]
    assert list(json.loads(storage.read_text(ledger.uri))["processed"]) == ["aisles/ingest_date=2026-11-28/aisles.csv"]
    assert [m.uri for m in read_manifest(lake)] == [aisles, departments]
    assert ledger.pending([aisles, departments]) == [departments]


def test_records_of_older_lakes_with_absolute_uris_still_read(lake, source_dir):
    ingest(lake, [str(source_dir)], "jr_1", DAY)
    raw = lake.locations.zone_uri("raw")
    aisles, departments = (f"{raw}/{name}/ingest_date=2026-11-28/{name}.csv" for name in ("aisles", "departments"))
    records = [json.loads(line) for line in storage.read_text(lake.locations.ingest_manifest_uri).splitlines()]
    storage.write_text_atomic(lake.locations.ingest_manifest_uri, "".join(
        json.dumps({**record, "uri": f"{raw}/{record['uri']}"}) + "\n" for record in records))
    ledger = Ledger(lake.locations.ledger_uri("raw_to_clean"), raw)
    storage.write_text_atomic(ledger.uri, json.dumps({"processed": {
        aisles: {"table": "aisles", "run_id": "jr_1", "processed_at": "2026-11-28T10:00:00+00:00"}}}))

    assert [m.uri for m in read_manifest(lake)] == [aisles, departments]
    assert ingest(lake, [str(source_dir)], "jr_2", DAY).landed == []
    assert len(read_manifest(lake)) == 2
    assert ledger.pending([aisles, departments]) == [departments]
    ledger.record([departments], "departments", "jr_2")
    assert sorted(json.loads(storage.read_text(ledger.uri))["processed"]) == [
        "aisles/ingest_date=2026-11-28/aisles.csv", "departments/ingest_date=2026-11-28/departments.csv"]


def test_a_lake_root_that_moves_keeps_what_it_landed_and_processed(spark, lake, source_dir, tmp_path):
    ingest(lake, [str(source_dir)], "jr_1", DAY)
    first = run_raw_to_clean(spark, lake, "jr_1")
    moved_root = tmp_path / "moved"
    shutil.move(tmp_path / "lake", moved_root)
    moved = Lake.from_environment(root=moved_root, profile="local")

    ledger = Ledger(moved.locations.ledger_uri(JOB_NAME), moved.locations.zone_uri("raw"))
    assert [ledger.pending(table_landed_files(moved, table)) for table in SOURCE_TABLES.values()] == [[]] * 6
    report = ingest(moved, [str(source_dir)], "jr_2", DAY)
    again = run_raw_to_clean(spark, moved, "jr_2")

    assert [len(run.files) for run in first] == [1, 1, 0, 0, 0, 0]
    assert report.landed == [] and len(report.unchanged) == 2
    assert [run.files for run in again] == [[]] * 6
    assert len(read_manifest(moved)) == 2
