"""Batch ingestion: landing layout, manifest, idempotency, versions, atomicity and bad input."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from instacart_lake import storage
from instacart_lake.cli import main
from instacart_lake.errors import InputError, LakeError
from instacart_lake.ingest import ingest, read_manifest
from instacart_lake.locations import uri_to_path

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
    assert report.ignored == []  # the generator's ground truth is passed over silently
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
    ("content", "message"),
    [
        (b"", "aisles.csv:1: file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "aisles.csv: not a CSV text file (binary content)"),
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
