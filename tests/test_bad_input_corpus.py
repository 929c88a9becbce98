"""The bad-input corpus (tests/bad_input_cases.py), one test per case.

A refused source is refused by `lake ingest` (a subprocess) in one line on stderr, and
nothing lands. A landed source goes through ingest and job 1 (in process, on the session's
Spark), and every raw line is accounted for: clean, quarantined with its reasons and its
bytes as they were, or dropped, adding up to the ingest manifest's count.

Job 1 costs seconds per run even on tiny data, so landed cases share runs: a batch combines
cases whose changes do not touch the same file, except that the lines several cases append
to one file are appended one case after the other (each case's line numbers shift by the
lines appended before it). Appended lines use ids of their own, so they do not meet. Each
case checks its own lines; each batch checks its totals against the sum of its cases'.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from bad_input_cases import (
    BASE,
    BASE_ROWS,
    CASES,
    ISSUE_CLASSES,
    TABLES,
    Case,
    Counts,
    GateStopped,
    Landed,
    Refused,
    lines,
)
from deltalake import DeltaTable

from instacart_lake import storage
from instacart_lake.context import Lake
from instacart_lake.errors import QualityGateFailed
from instacart_lake.ingest import IngestReport, ingest, read_manifest
from instacart_lake.jobs.raw_to_clean import TableRun, run_raw_to_clean
from instacart_lake.locations import uri_to_path
from instacart_lake.schemas import SOURCE_TABLES

LAKE_COMMAND = str(Path(sys.executable).parent / "lake")
LAKE_VARIABLES = ("LAKE_PROFILE", "LAKE_ROOT", "LAKE_META_URI", "LAKE_REGION")


def cases_of(outcome: type) -> list:
    return [pytest.param(case, id=case.id) for case in CASES if isinstance(case.expected, outcome)]


def write_files(folder: Path, files: dict[str, bytes | None]) -> None:
    for name, content in files.items():
        if content is not None:
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)


def new_lake(root: Path) -> Lake:
    with pytest.MonkeyPatch.context() as patch:
        for name in LAKE_VARIABLES:
            patch.delenv(name, raising=False)
        return Lake.from_environment(root=str(root), profile="local")


def read_delta(uri: str, columns: list[str] | None = None) -> list[dict]:
    return DeltaTable(uri_to_path(uri)).to_pyarrow_table(columns=columns).to_pylist()


def physical_line(content: bytes, number: int) -> bytes:
    """Line `number` of a file (1 = the header) as it was, without its line end."""
    return content.split(b"\n")[number - 1].removesuffix(b"\r")


@dataclass
class Batch:
    """Landed cases run together through one ingest and one job 1 run."""

    name: str
    cases: list[Case] = field(default_factory=list)

    def accepts(self, case: Case) -> bool:
        replaced = {name for other in self.cases for name in other.files}
        appended = {name for other in self.cases for name in other.appended}
        return not (set(case.files) & (replaced | appended) or set(case.appended) & replaced)

    def files(self) -> dict[str, bytes | None]:
        files = dict(BASE)
        for case in self.cases:
            files |= case.files
        for case in self.cases:
            for name, extra in case.appended.items():
                files[name] += extra
        return files

    def appended_before(self, case: Case, name: str) -> int:
        """Physical lines that the batch's earlier cases appended to file `name`."""
        earlier = self.cases[: self.cases.index(case)]
        return sum(other.appended.get(name, b"").count(b"\n") for other in earlier)

    def line(self, case: Case, table: str, number: int) -> int:
        """Where line `number` of the case alone is in the batch's file of `table`."""
        name = f"{table}.csv"
        base_lines = len(lines(name))
        if name in case.appended and number > base_lines:
            return number + self.appended_before(case, name)
        return number

    def own_lines(self, case: Case, table: str, file_lines: int) -> set[int]:
        """The lines of `table` that only this case wrote."""
        name = f"{table}.csv"
        if name in case.files:
            return set(range(1, file_lines + 1))
        start = len(lines(name)) + 1 + self.appended_before(case, name)
        return set(range(start, start + case.appended.get(name, b"").count(b"\n")))


def batches_of(cases: list[Case]) -> list[Batch]:
    """Each case in the first batch that accepts it. Cases that only append lines come first:
    they all fit in one batch."""
    batches: list[Batch] = []
    for case in sorted(cases, key=lambda case: bool(case.files)):
        batch = next((batch for batch in batches if batch.accepts(case)), None)
        if batch is None:
            batch = Batch(f"batch-{len(batches) + 1}")
            batches.append(batch)
        batch.cases.append(case)
    return batches


BATCHES = batches_of([case for case in CASES if isinstance(case.expected, Landed)])
BATCH_OF = {case.id: batch for batch in BATCHES for case in batch.cases}


@dataclass
class BatchRun:
    files: dict[str, bytes | None]
    report: IngestReport
    manifest: dict[str, int]
    runs: dict[str, TableRun]
    quarantine: dict[str, dict[int, dict]]
    """Per table: line number -> the quarantine row."""
    lake: Lake


def run_batch(spark, root: Path, batch: Batch) -> BatchRun:
    files = batch.files()
    write_files(root / "source", files)
    lake = new_lake(root / "lake")
    report = ingest(lake, [str(root / "source")], "jr_ingest")
    runs = {run.table.name: run for run in run_raw_to_clean(spark, lake, "jr_corpus")}
    quarantine = {name: {row["line_number"]: row for row in read_delta(
        lake.locations.quarantine_table_uri(name), ["line_number", "raw_bytes", "reasons"])} for name in TABLES}
    manifest = {landing.table: landing.row_count for landing in read_manifest(lake)}
    return BatchRun(files, report, manifest, runs, quarantine, lake)


@pytest.fixture(scope="module")
def batch_run(spark, tmp_path_factory):
    """The run of a batch, made when a test first asks for it."""
    done: dict[str, BatchRun | Exception] = {}

    def run_of(batch: Batch) -> BatchRun:
        if batch.name not in done:
            try:
                done[batch.name] = run_batch(spark, tmp_path_factory.mktemp(batch.name), batch)
            except Exception as error:  # every case of the batch reports it
                done[batch.name] = error
        outcome = done[batch.name]
        if isinstance(outcome, Exception):
            pytest.fail(f"batch {batch.name} ({', '.join(c.id for c in batch.cases)}) failed: "
                        f"{type(outcome).__name__}: {outcome}")
        return outcome

    return run_of


@pytest.mark.parametrize("case", cases_of(Refused))
def test_a_refused_source_is_refused_in_one_line_and_lands_nothing(case, tmp_path):
    folder = tmp_path / "source"
    write_files(folder, BASE | case.files)
    root = tmp_path / "lake"
    environment = {name: value for name, value in os.environ.items() if name not in LAKE_VARIABLES}

    result = subprocess.run(
        [LAKE_COMMAND, "--lake-root", str(root), "ingest", *[str(folder / source) for source in case.sources]],
        capture_output=True, text=True, env=environment, timeout=120)

    errors = result.stderr.splitlines()
    assert (result.returncode, len(errors)) == (case.expected.exit_code, 1), result.stderr
    assert errors[0].startswith("lake ingest: error: ")
    assert [part for part in case.expected.message if part not in errors[0]] == [], errors[0]
    lake = new_lake(root)
    assert storage.list_files(lake.locations.zone_uri("raw")) == []
    assert read_manifest(lake) == []


@pytest.mark.parametrize("case", cases_of(Landed))
def test_a_landed_case_has_its_lines_quarantined_or_loaded_as_expected(case, batch_run):
    batch = BATCH_OF[case.id]
    run = batch_run(batch)
    expected: Landed = case.expected

    for table in TABLES:
        content = run.files[f"{table}.csv"]
        wanted = {batch.line(case, table, number): tuple(sorted(reasons))
                  for number, reasons in expected.quarantined.get(table, {}).items()}
        watched = wanted.keys() | batch.own_lines(case, table, content.count(b"\n") + 1)
        found = {line: row for line, row in run.quarantine[table].items() if line in watched}
        assert {line: tuple(sorted(row["reasons"])) for line, row in found.items()} == wanted, table
        assert {line: row["raw_bytes"] for line, row in found.items()} == {
            line: physical_line(content, line) for line in found}, table

    for table, rows in expected.clean.items():
        key = SOURCE_TABLES[table].primary_key
        clean = {tuple(row[column] for column in key): row
                 for row in read_delta(run.lake.locations.table_uri("clean", table))}
        for value, columns in rows.items():
            row = clean.get(value if isinstance(value, tuple) else (value,))
            assert row is not None and {column: row[column] for column in columns} == columns, (table, value)

    assert set(expected.ignored) <= {Path(path).name for path in run.report.ignored}


@pytest.mark.parametrize("batch", [pytest.param(batch, id=batch.name) for batch in BATCHES])
def test_a_batch_accounts_for_every_line_as_its_cases_say(batch, batch_run):
    run = batch_run(batch)

    def summed(table: str) -> Counts:
        deltas = [case.expected.table_counts(table) for case in batch.cases]
        return Counts(BASE_ROWS[table] + sum(counts.clean - BASE_ROWS[table] for counts in deltas),
                      sum(counts.quarantined for counts in deltas), sum(counts.dropped for counts in deltas))

    actual = {name: Counts(run.runs[name].clean_rows, run.runs[name].quarantined_lines,
                           run.runs[name].dropped_duplicates) for name in TABLES}
    assert actual == {name: summed(name) for name in TABLES}
    assert {name: run.runs[name].raw_lines for name in TABLES} == run.manifest == {
        name: summed(name).raw for name in TABLES}
    wanted = {(table, batch.line(case, table, number)): tuple(sorted(reasons)) for case in batch.cases
              for table, quarantined in case.expected.quarantined.items() for number, reasons in quarantined.items()}
    assert {(table, line): tuple(sorted(row["reasons"]))
            for table in TABLES for line, row in run.quarantine[table].items()} == wanted
    assert sorted(Path(path).name for path in run.report.ignored) == sorted(
        name for case in batch.cases for name in case.expected.ignored)


@pytest.mark.parametrize("case", cases_of(GateStopped))
def test_a_source_that_fails_the_gate_stops_job_1_with_one_line_per_failed_rule_and_commits_nothing(
        case, spark, lake, tmp_path):
    folder = tmp_path / "source"
    write_files(folder, BASE | case.files)
    ingest(lake, [str(folder)], "jr_ingest")

    with pytest.raises(QualityGateFailed) as stopped:
        run_raw_to_clean(spark, lake, "jr_corpus")

    message = str(stopped.value)
    assert [part for part in case.expected.message if part not in message] == [], message
    rules_per_line = [sum(line.count(f"{name}: ") for name in TABLES) for line in message.splitlines()]
    assert max(rules_per_line) == 1 and min(rules_per_line[1:], default=1) == 1, message
    assert [name for name in TABLES if storage.exists(lake.locations.table_uri("clean", name))] == []
    assert not storage.exists(lake.locations.ledger_uri("raw_to_clean"))


def test_the_corpus_covers_every_class_of_bad_input_of_the_issue():
    assert len(CASES) >= 50
    assert len({case.id for case in CASES}) == len(CASES)
    assert sorted(ISSUE_CLASSES - {case.issue_class for case in CASES}) == []
    assert sorted({case.issue_class for case in CASES} - ISSUE_CLASSES) == []
