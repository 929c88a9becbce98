"""Deequ's own DQDL engine (Deequ 2.1.0, through tests/deequ_dqdl.py) as a second opinion on
instacart_lake.dq:

- every ruleset of the pipeline, on small inputs with defects (tests/dq_ruleset_inputs.py):
  both engines give each rule the same outcome, and the same value to each metric both report;
- a corpus of documented cases (tests/dq_corpus.json): our evaluator gives the outcome and
  metrics the AWS Glue DQDL reference gives; Deequ gives the same, or, where the case records a
  departure of Deequ from the reference, exactly the recorded behaviour (so that a change in
  Deequ shows up as a stale record)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from deequ_dqdl import evaluate_with_deequ
from dq_ruleset_inputs import RULESET_INPUTS, TABLES
from pyspark.errors import IllegalArgumentException

import instacart_lake
from instacart_lake.dq import evaluate, load_ruleset, parse_ruleset
from instacart_lake.dq.rule_types import RULE_TYPES

RULESETS = Path(instacart_lake.__file__).parent / "rulesets"
CORPUS = json.loads(Path(__file__).with_name("dq_corpus.json").read_text(encoding="utf-8"))
CASES = CORPUS["cases"]
REFUSED = "Refused"
"""The outcome a departure records for a rule that Deequ's parser refuses (with the ruleset)."""


def case_id(case: dict) -> str:
    return f"{case['input']}: {case['rule']}"


def checkpointed_frames(spark, tables: dict) -> dict:
    """Checkpointed DataFrames: the engines scan each input many times, and a DataFrame made from
    Python rows would run Python again for every scan."""
    return {name: spark.createDataFrame(rows, schema).localCheckpoint() for name, (schema, rows) in tables.items()}


def test_every_ruleset_file_has_an_input():
    assert sorted(RULESET_INPUTS) == sorted(str(path.relative_to(RULESETS)) for path in RULESETS.rglob("*.dqdl"))


@pytest.fixture(scope="module")
def ruleset_tables(spark):
    return checkpointed_frames(spark, TABLES)


@pytest.mark.parametrize("ruleset", sorted(RULESET_INPUTS))
def test_both_engines_agree_on_every_pipeline_rule(spark, ruleset_tables, ruleset):
    table, aliases = RULESET_INPUTS[ruleset]
    references = {alias: ruleset_tables[name] for alias, name in aliases.items()}
    path = RULESETS / ruleset
    ours = evaluate(load_ruleset(path), ruleset_tables[table], references)
    # The file goes to Deequ as it is, `# action:` comments included: its parser skips comments.
    theirs = evaluate_with_deequ(spark, path.read_text(encoding="utf-8"), ruleset_tables[table], references)
    pairs = list(zip(ours, theirs, strict=True))
    assert [(rule.rule, rule.outcome.value) for rule in ours] == [(rule.rule, other.outcome) for rule, other in pairs]
    assert {"Passed", "Failed"} <= {rule.outcome.value for rule in ours}, "the input passes or fails every rule"
    # and every metric both engines report has one value
    for rule, other in pairs:
        shared = rule.evaluated_metrics.keys() & other.metrics.keys()
        assert {name: other.metrics[name] for name in shared} == pytest.approx(
            {name: rule.evaluated_metrics[name] for name in shared}
        ), rule.rule


def deequ_expected(case: dict) -> dict:
    """What Deequ gives for a case: the documented result, or the departure the case records."""
    return case.get("deequ_departs", case)


def metric_names(case: dict) -> set[str]:
    """The metrics of a case, and for ColumnLength both length extremes of its column: Deequ
    looks them up for every ColumnLength rule, whatever its condition."""
    names = set(case["metrics"]) | set(deequ_expected(case).get("metrics", {}))
    for leaf in parse_ruleset(f"Rules = [{case['rule']}]", "dq_corpus.json").rules[0].leaves():
        if leaf.rule_type == "ColumnLength":
            names |= {f"Column.{leaf.column}.MinimumLength", f"Column.{leaf.column}.MaximumLength"}
    return names


def refused(case: dict) -> bool:
    return deequ_expected(case)["outcome"] == REFUSED


def pack_into_rulesets(cases: list[dict]) -> list[list[dict]]:
    """The cases packed into few rulesets, each of cases on one input (and references) in which
    no two rules have a metric of the same name: Deequ keys the metrics it computed by entity,
    column and metric name only, so two such rules (say with different where clauses) would
    read one value. A rule that Deequ refuses makes it refuse its whole ruleset, so it goes alone."""
    packed: list[list[dict]] = []
    for case in cases:
        fitting = (
            batch
            for batch in packed
            if (batch[0]["input"], batch[0].get("references")) == (case["input"], case.get("references"))
            and not refused(batch[0])
            and not refused(case)
            and not metric_names(case) & set().union(*map(metric_names, batch))
        )
        batch = next(fitting, None)
        if batch is None:
            packed.append([case])
        else:
            batch.append(case)
    return packed


@dataclass(frozen=True)
class CorpusResults:
    """Each engine's result of every case, keyed by case id; for a case that Deequ refuses, its
    error message."""

    ours: dict
    deequ: dict


@pytest.fixture(scope="module")
def corpus_results(spark) -> CorpusResults:
    """One ruleset per batch of cases and engine."""
    tables = {name: (data["schema"], [tuple(row) for row in data["rows"]]) for name, data in CORPUS["inputs"].items()}
    inputs = checkpointed_frames(spark, tables)
    ours, theirs = {}, {}
    for batch in pack_into_rulesets(CASES):
        df = inputs[batch[0]["input"]]
        references = {alias: inputs[name] for alias, name in batch[0].get("references", {}).items()}
        text = "Rules = [\n    " + ",\n    ".join(case["rule"] for case in batch) + "\n]\n"
        ours.update(zip(map(case_id, batch), evaluate(parse_ruleset(text, "dq_corpus.json"), df, references)))
        if refused(batch[0]):
            try:
                theirs[case_id(batch[0])] = evaluate_with_deequ(spark, text, df, references)
            except IllegalArgumentException as error:
                theirs[case_id(batch[0])] = str(error)
        else:
            theirs.update(zip(map(case_id, batch), evaluate_with_deequ(spark, text, df, references)))
    return CorpusResults(ours, theirs)


def test_the_corpus_has_a_case_for_every_supported_rule_type():
    assert len(CASES) >= 40
    assert len({case_id(case) for case in CASES}) == len(CASES)
    assert all(case["source"] for case in CASES)
    rules = parse_ruleset("Rules = [" + ",".join(case["rule"] for case in CASES) + "]", "dq_corpus.json").rules
    assert {leaf.rule_type for rule in rules for leaf in rule.leaves()} == set(RULE_TYPES)
    assert {case["outcome"] for case in CASES} == {"Passed", "Failed"}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_our_evaluator_gives_the_documented_result(corpus_results, case):
    result = corpus_results.ours[case_id(case)]
    assert result.outcome.value == case["outcome"]
    assert result.evaluated_metrics == pytest.approx(case["metrics"])
    if "failure_reason" in case:
        assert result.failure_reason == case["failure_reason"]


@pytest.mark.parametrize("case", [case for case in CASES if "deequ_departs" not in case], ids=case_id)
def test_deequ_gives_the_documented_result(corpus_results, case):
    result = corpus_results.deequ[case_id(case)]
    assert result.outcome == case["outcome"]
    assert result.metrics == pytest.approx(case["metrics"])
    if "failure_reason" in case:
        assert result.failure_reason == case["failure_reason"]


@pytest.mark.parametrize("case", [case for case in CASES if "deequ_departs" in case], ids=case_id)
def test_deequ_departs_from_the_documentation_as_recorded(corpus_results, case):
    departure = case["deequ_departs"]
    assert departure["reason"]
    result = corpus_results.deequ[case_id(case)]
    if departure["outcome"] == REFUSED:
        assert departure["error"] in result
        return
    assert (departure["outcome"], departure["metrics"]) != (case["outcome"], case["metrics"]), "no departure"
    assert result.outcome == departure["outcome"]
    assert result.metrics == pytest.approx(departure["metrics"])
