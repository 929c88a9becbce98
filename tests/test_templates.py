"""The templates of cloudformation/: current with their sources, clean under cfn-lint and
checkov, and in agreement with what they name (scripts, packages, rulesets, handlers, their
arguments and environment)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from aws_event_samples import processing_event

from instacart_lake.config import OPTIONAL_KEYS, ZONES, load_config
from instacart_lake.crawler.definition import load_crawler
from instacart_lake.deploy.deployment import deploy_parameters
from instacart_lake.deploy.packages import build_packages
from instacart_lake.deploy.stacks import FIRST_STACK, STACK_ORDER, stack_templates
from instacart_lake.deploy.templates.generated import GENERATED, stale_templates
from instacart_lake.deploy.templates.jobs import (
    LIBRARY_ARCHIVE,
    glue_job_scripts,
    ruleset_files,
    ruleset_target,
    run_time_arguments,
    script_arguments,
)
from instacart_lake.deploy.templates.orchestration import LAMBDA_BUNDLE
from instacart_lake.deploy.templates.rendering import TEMPLATES_DIR, load_template
from instacart_lake.handlers.sagemaker_processing_state import publication_arguments
from instacart_lake.locations import Locations
from instacart_lake.ml.job_requests import build_scoring_request, ml_zone_settings
from instacart_lake.orchestration.definition import load_definition

REPO = Path(__file__).resolve().parents[1]
# Glue's own job parameters (docs: "Using job parameters in AWS Glue jobs"), not the script's.
GLUE_SPECIAL_ARGUMENTS = {
    "--datalake-formats", "--conf", "--extra-py-files", "--enable-glue-datacatalog", "--job-bookmark-option",
    "--enable-metrics", "--enable-observability-metrics", "--enable-continuous-cloudwatch-log", "--TempDir",
    "--additional-python-modules",
}
# Environment variables a handler reads that need no template setting: set by Lambda itself,
# or optional with a default.
LAMBDA_SET = {"AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION"}
OPTIONAL_HANDLER_VARIABLES = {"ML_HYPERPARAMETERS", "ML_ID_COLUMNS", "ML_TRAINING_INSTANCE_TYPE",
                              "ML_SCORING_INSTANCE_TYPE", "POWERTOOLS_LOG_LEVEL",
                              "LAKE_API_KEY",  # the prediction API's key off Lambda; API Gateway checks it on AWS
                              "GROUND_TRUTH_URI"}  # the generator's ground truth: generated data only
# Third-party modules Lambda's Python 3.11 runtime provides (the AWS SDK and its dependencies)
# and the powertools layer brings (powertools, pydantic and theirs).
LAMBDA_RUNTIME_MODULES = {"boto3", "botocore", "jmespath", "s3transfer", "dateutil", "urllib3", "six",
                          "aws_lambda_powertools", "pydantic", "pydantic_core", "typing_extensions",
                          "annotated_types", "typing_inspection"}
# What Glue 5.0 provides (docs: "Python modules already provided in AWS Glue 5.0"), in part.
GLUE_PROVIDED_MODULES = {"pyspark", "py4j", "delta", "boto3", "botocore", "jmespath", "s3transfer", "dateutil",
                         "urllib3", "six", "numpy", "pandas", "pyarrow", "pytz", "certifi", "typing_extensions",
                         "setuptools", "pkg_resources", "cloudpickle", "regex", "scipy", "joblib", "threadpoolctl"}
ADDITIONAL_MODULE_DISTRIBUTIONS = {"sklearn": "scikit-learn", "arro3": "deltalake"}


def templates() -> dict[str, dict]:
    return {path.stem: load_template(path) for path in sorted(TEMPLATES_DIR.glob("*.yaml"))}


def resources_of_type(template: dict, resource_type: str) -> dict[str, dict]:
    return {name: resource for name, resource in template["Resources"].items() if resource["Type"] == resource_type}


def test_every_generated_template_is_current():
    assert set(GENERATED) <= {path.name for path in TEMPLATES_DIR.glob("*.yaml")}
    assert stale_templates() == []


def test_checkov_fails_no_check_and_every_skip_says_why():
    checkov = Path(sysconfig.get_path("scripts")) / "checkov"
    result = subprocess.run([str(checkov), "--directory", str(TEMPLATES_DIR), "--framework", "cloudformation",
                             "--skip-download", "--output", "json"], capture_output=True, text=True)
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [(check["check_id"], check["resource"], check["file_path"])
              for item in reports for check in item["results"].get("failed_checks", [])]
    skipped = [check for item in reports for check in item["results"].get("skipped_checks", [])]
    assert failed == []
    assert all(check.get("check_result", {}).get("suppress_comment", "").strip() for check in skipped), skipped
    scanned = {Path(check["file_path"]).name for item in reports for check in item["results"]["passed_checks"]}
    assert scanned == {path.name for path in TEMPLATES_DIR.glob("*.yaml")}


def test_every_template_has_a_place_in_the_deployment_order_and_its_parameters_a_source():
    found = [template.name for template in stack_templates()]
    assert found[0] == FIRST_STACK
    assert found == [name for name in STACK_ORDER if name in found]
    earlier: set[str] = set()
    for template in stack_templates():
        for name, declaration in template.parameters.items():
            assert "Default" in declaration or name in set(deploy_parameters("dev", "code/x")) | earlier, (
                template.name, name)
        assert all("Fn::ImportValue" not in json.dumps(resource) for resource in template.resources.values())
        earlier |= set(template.resources)


def test_each_glue_job_runs_its_script_with_the_arguments_the_script_reads():
    jobs = resources_of_type(templates()["jobs"], "AWS::Glue::Job")
    scripts = {script.stem: script for script in glue_job_scripts()}
    assert sorted(job["Properties"]["Name"] for job in jobs.values()) == sorted(scripts)
    aws_keys = {*load_config(profile="aws", environ={}).__dataclass_fields__, *OPTIONAL_KEYS, "profile",
                *(f"{zone}_uri" for zone in ZONES)}
    for job in jobs.values():
        properties = job["Properties"]
        script = scripts[properties["Name"]]
        assert properties["Command"]["ScriptLocation"]["Fn::Sub"].endswith(f"/glue_jobs/{script.name}")
        assert properties["DefaultArguments"]["--extra-py-files"]["Fn::Sub"].endswith(f"/{LIBRARY_ARCHIVE}")
        given = set(properties["DefaultArguments"]) - GLUE_SPECIAL_ARGUMENTS
        overrides = {name for name in given if name.startswith("--LAKE_")}
        assert {name.removeprefix("--LAKE_").lower() for name in overrides} <= aws_keys
        expected = {f"--{name}" for name in script_arguments(script) if name != "JOB_NAME"}
        optional = {f"--{name}" for name in script_arguments(script, "OPTIONAL_ARGUMENTS")}
        assert expected - {f"--{name}" for name in run_time_arguments(script)} <= given - overrides
        assert given - overrides <= expected | optional


def test_the_run_time_arguments_of_the_gold_job_are_the_ones_its_handler_passes():
    [script] = [script for script in glue_job_scripts() if script.stem == "gold_predictions"]
    locations = Locations(load_config(profile="aws", environ={}))
    settings = ml_zone_settings(locations, region="eu-west-1", role_arn="arn:aws:iam::123456789012:role/sm",
                                training_source_uri="s3://code/sourcedir.tar.gz", scoring_code_uri="s3://code/")
    version = "reorder-20261201-120000-abc"
    request = build_scoring_request(settings, version, f"{locations.ml_models_uri}/{version}/model.tar.gz",
                                    f"{version}-score-1")
    passed = publication_arguments(processing_event(request)["detail"], settings, "aws", None)
    assert set(passed) - {"--lake_profile"} == {f"--{name}" for name in run_time_arguments(script)}


def test_every_ruleset_file_is_deployed_as_written_on_its_target_table():
    rulesets = resources_of_type(templates()["jobs"], "AWS::Glue::DataQualityRuleset")
    deployed = {(item["Properties"]["TargetTable"]["DatabaseName"], item["Properties"]["TargetTable"]["TableName"]):
                item["Properties"]["Ruleset"] for item in rulesets.values()}
    assert deployed == {ruleset_target(path): path.read_text(encoding="utf-8") for path in ruleset_files()}
    assert ("instacart_curated", "next_basket") in deployed and ("instacart_clean", "orders") in deployed


def test_the_crawler_is_the_definition_of_crawlers_folder():
    [crawler] = resources_of_type(templates()["catalog"], "AWS::Glue::Crawler").values()
    definition = load_crawler()
    properties = crawler["Properties"]
    assert properties["Name"] == "instacart_raw_crawler" == definition.glue_name("instacart")
    assert properties["DatabaseName"] == "instacart_raw"
    assert properties["Targets"]["S3Targets"][0]["Exclusions"] == list(definition.exclusions)
    assert properties["SchemaChangePolicy"] == {"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "LOG"}
    assert json.loads(properties["Configuration"]) == definition.configuration


def _lambda_functions() -> dict[str, dict]:
    functions = {}
    for template in templates().values():
        functions |= resources_of_type(template, "AWS::Lambda::Function")
    return functions


def test_there_is_a_rule_and_function_for_every_event_kind_of_the_definition():
    orchestration = templates()["orchestration"]
    handlers = {function["Properties"]["Handler"] for function in
                resources_of_type(orchestration, "AWS::Lambda::Function").values()}
    definition = load_definition()
    assert handlers == {event.handler.replace(":", ".") for event in definition.events.values()}
    rules = resources_of_type(orchestration, "AWS::Events::Rule")
    patterns = {rule["Properties"]["EventPattern"]["detail-type"][0] for rule in rules.values()}
    assert patterns == {"Object Created", *(event.detail_type for event in definition.events.values()
                                            if event.detail_type)}


def _environment_names_read(module_paths: list[Path]) -> set[str]:
    pattern = re.compile(r"""environ(?:\.get\(|\[|,\s*)\s*["']([A-Z][A-Z0-9_]+)["']""")
    return {name for path in module_paths for name in pattern.findall(path.read_text(encoding="utf-8"))}


def test_every_environment_variable_a_handler_reads_is_set_by_its_function():
    handlers_dir = REPO / "instacart_lake" / "handlers"
    for name, function in _lambda_functions().items():
        module = function["Properties"]["Handler"].rpartition(".")[0]
        path = REPO / (module.replace(".", "/") + ".py")
        source = path.read_text(encoding="utf-8")
        modules = [path] + [handlers_dir / f"{shared}.py" for shared in ("services", "ml_settings")
                            if f"handlers.{shared} import" in source]
        environment = function["Properties"]["Environment"]["Variables"]
        required = _environment_names_read(modules) - LAMBDA_SET - OPTIONAL_HANDLER_VARIABLES
        assert required <= set(environment), (name, required - set(environment))
        if environment.get("LAKE_PROFILE"):
            resolved = {key: value if isinstance(value, str) else "s3://bucket" for key, value in environment.items()}
            config = load_config(environ=resolved)
            assert config.profile == "aws" and all(uri.startswith("s3://") for uri in config.zone_uris.values())


def _archive(key: str, folder: Path) -> Path:
    [package] = [package for package in build_packages() if package.key == key]
    archive = folder / key
    archive.write_bytes(package.data)
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(folder / "unpacked")
    return folder / "unpacked"


IMPORT_WITH_ONLY = """
import importlib, importlib.abc, sys
allowed, targets = set(sys.argv[1].split(",")), sys.argv[2].split(",")
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top not in allowed and top not in sys.stdlib_module_names and not top.startswith("_"):
            raise ImportError(f"{name} is not in the package")
sys.meta_path.insert(0, Refuse())
for target in targets:
    module, _, attribute = target.partition(":")
    loaded = importlib.import_module(module)
    assert not attribute or callable(getattr(loaded, attribute)), target
    assert loaded.__file__.startswith(sys.argv[3]), (target, loaded.__file__)
print("imported", len(targets))
"""


def _import_with_only(unpacked: Path, allowed: set[str], targets: list[str]) -> subprocess.CompletedProcess:
    site_packages = sysconfig.get_path("purelib")
    path = f"{unpacked}:{site_packages}"
    return subprocess.run([sys.executable, "-S", "-c", IMPORT_WITH_ONLY, ",".join(sorted(allowed)), ",".join(targets),
                           str(unpacked)], capture_output=True, text=True, env={"PYTHONPATH": path}, cwd=unpacked)


def test_every_handler_imports_from_the_lambda_bundle_with_only_the_lambda_runtime(tmp_path):
    unpacked = _archive(LAMBDA_BUNDLE, tmp_path)
    bundled = {path.name for path in unpacked.iterdir()}
    handlers = sorted({":".join(function["Properties"]["Handler"].rsplit(".", 1))
                       for function in _lambda_functions().values()})
    result = _import_with_only(unpacked, LAMBDA_RUNTIME_MODULES | bundled, handlers)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == f"imported {len(handlers)}"


def test_every_job_imports_from_the_library_with_what_glue_provides_and_the_additional_modules(tmp_path):
    unpacked = _archive(LIBRARY_ARCHIVE, tmp_path)
    from instacart_lake.versions import load_manifest

    additional = set(load_manifest()["glue"]["additional_python_modules"])
    modules = {name for name, distribution in ADDITIONAL_MODULE_DISTRIBUTIONS.items() if distribution in additional}
    allowed = GLUE_PROVIDED_MODULES | {name.replace("-", "_") for name in additional} | modules | {"instacart_lake"}
    jobs = [f"instacart_lake.jobs.{script.stem}" for script in glue_job_scripts()]
    result = _import_with_only(unpacked, allowed, jobs)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.parametrize("stack", sorted(GENERATED))
def test_generated_templates_name_no_account_or_region(stack):
    text = (TEMPLATES_DIR / stack).read_text(encoding="utf-8")
    assert not re.search(r"arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:\d{12}", text)
    assert "us-east-1" not in text and "eu-west-1" not in text
