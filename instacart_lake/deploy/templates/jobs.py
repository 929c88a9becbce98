"""The jobs stack: an AWS::Glue::Job per script of glue_jobs/ (Glue 5.0 with Delta as Glue
configures it, the packaged library, the deployed stage's buckets as --LAKE_* arguments), a
role per job with the zones it reads and writes, and an AWS::Glue::DataQualityRuleset per
ruleset file on its target table."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from instacart_lake.config import ZONES, spark_settings
from instacart_lake.deploy.templates.catalog import SECURITY_CONFIGURATION, aws_locations
from instacart_lake.deploy.templates.intrinsics import (
    STAGE_PARAMETER,
    allow,
    assume_role_policy,
    bucket_arn,
    camel,
    checkov_skips,
    deployed_lake_settings,
    get_att,
    key_arn,
    policy,
    ref,
    resource_parameters,
    string_parameter,
    sub,
)
from instacart_lake.deploy.templates.storage import bucket_logical_id
from instacart_lake.jobs.glue_entry import STANDARD_ARGUMENTS
from instacart_lake.jobs.quality_gate import DQ_RESULTS_TABLE
from instacart_lake.versions import load_manifest, platform_version

REPO = Path(__file__).resolve().parents[3]
GLUE_JOBS_DIR = REPO / "glue_jobs"
RULESETS_DIR = REPO / "instacart_lake" / "rulesets"
SOURCES = ("glue_jobs/*.py, instacart_lake/rulesets/, versions.toml, lake.toml's [spark.*] and "
           "instacart_lake/deploy/templates/jobs.py")
LIBRARY_ARCHIVE = "instacart_lake.zip"

# The zones each job reads and writes (every job also writes the lake's metadata: job results,
# ledgers and logs, under the ml zone's _meta/ prefix; and every job that writes a table appends
# its data-quality results to the clean zone's dq_results table). export_serving reads the
# product names of the clean zone with the gold tables.
JOB_ZONES = {
    "raw_to_clean": {"reads": ("raw",), "writes": ("clean",)},
    "clean_to_curated": {"reads": ("clean",), "writes": ("curated",)},
    "curated_to_ml": {"reads": ("clean", "curated"), "writes": ("ml",)},
    "gold_predictions": {"reads": ("clean", "curated", "ml"), "writes": ("curated",)},
    "export_serving": {"reads": ("clean", "curated"), "writes": ()},
}

# Default arguments of one job beyond the lake's: the export job writes the API's serving
# table (the api stack's ServingTable).
JOB_ARGUMENTS = {"export_serving": {"--serving_table": ref("ServingTable")}}
SERVING_TABLE_WRITERS = ("export_serving",)

# Ruleset folders that are not zones: the gold tables live in the curated zone.
RULESET_ZONES = {"gold": "curated"}


def script_arguments(script: Path, name: str = "ARGUMENTS") -> list[str]:
    """The ARGUMENTS list a job script resolves (read from its source, not imported), or
    another list of argument names it declares (OPTIONAL_ARGUMENTS: none when it has none)."""
    for node in ast.parse(script.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == name for target in node.targets):
            return list(ast.literal_eval(node.value))
    if name != "ARGUMENTS":
        return []
    raise ValueError(f"{script}: no ARGUMENTS list")


def script_summary(script: Path) -> str:
    docstring = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8"))) or script.stem
    return " ".join(docstring.split("\n\n")[0].split())


def glue_job_scripts() -> list[Path]:
    return sorted(path for path in GLUE_JOBS_DIR.glob("*.py") if not path.name.startswith("_"))


def delta_conf() -> str:
    """Glue's --conf value for several settings: `k=v --conf k2=v2 ...`."""
    settings = {**spark_settings("delta"), **spark_settings("delta_on_s3")}
    return " --conf ".join(f"{key}={value}" for key, value in settings.items())


def run_time_arguments(script: Path) -> list[str]:
    """The arguments the handler that starts the job passes at each run (not defaults)."""
    return [name for name in script_arguments(script) if name not in STANDARD_ARGUMENTS]


def additional_python_modules() -> str:
    """`name==version,...` of versions.toml's [glue] additional_python_modules, pinned by [python]."""
    manifest = load_manifest()
    return ",".join(f"{name}=={manifest['python'][name]}" for name in manifest["glue"]["additional_python_modules"])


def _default_arguments(job: str) -> dict[str, Any]:
    code = "s3://${ArtifactsBucket}/${CodePrefix}"
    return {
        "--datalake-formats": "delta",
        "--additional-python-modules": additional_python_modules(),
        "--conf": delta_conf(),
        "--extra-py-files": sub(f"{code}/{LIBRARY_ARCHIVE}"),
        "--enable-glue-datacatalog": "true",
        # Incremental reads use the lake's ledger of processed files (the same locally and on
        # Glue); the jobs read with DataFrames, which bookmarks do not track.
        "--job-bookmark-option": "job-bookmark-disable",
        "--enable-metrics": "true",
        "--enable-observability-metrics": "true",
        "--enable-continuous-cloudwatch-log": "true",
        "--TempDir": sub(f"s3://${{ArtifactsBucket}}/tmp/glue/{job}/"),
        "--lake_profile": "aws",
        **{f"--{name}": value for name, value in deployed_lake_settings().items() if name != "LAKE_PROFILE"},
        **JOB_ARGUMENTS.get(job, {}),
    }


def _job_role(job: str) -> dict[str, Any]:
    zones = JOB_ZONES[job]
    locations = aws_locations()
    catalog = "arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}"
    read_buckets = [bucket_logical_id(zone) for zone in zones["reads"]]
    write_buckets = [bucket_logical_id(zone) for zone in zones["writes"]]
    statements = [
        allow(["s3:GetObject"], [sub("arn:${AWS::Partition}:s3:::${ArtifactsBucket}/${CodePrefix}/*")], "ReadTheCode"),
        allow(["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
              [sub(f"arn:${{AWS::Partition}}:s3:::${{ArtifactsBucket}}/tmp/glue/{job}/*"),
               bucket_arn("MlBucket", "/_meta/*")], "WriteTempFilesAndLakeMetadata"),
        allow(["s3:ListBucket"], [bucket_arn(name) for name in sorted({*read_buckets, *write_buckets, "MlBucket",
                                                                        "ArtifactsBucket"})], "ListItsBuckets"),
        allow(["kms:Decrypt", "kms:GenerateDataKey"], key_arn(), "UseTheDataKey"),
        allow(["glue:GetDatabase", "glue:GetDatabases", "glue:GetPartition", "glue:GetPartitions", "glue:GetTable",
               "glue:GetTables", "glue:GetTableVersions"],
              [sub(f"{catalog}:catalog"), *[sub(f"{catalog}:database/{locations.database(zone)}") for zone in ZONES],
               *[sub(f"{catalog}:table/{locations.database(zone)}/*") for zone in ZONES]], "ReadTheCatalog"),
        allow(["logs:AssociateKmsKey", "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
              sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws-glue/*"), "WriteLogs"),
        allow(["cloudwatch:PutMetricData"], "*", "PublishMetrics"),
    ]
    if job in SERVING_TABLE_WRITERS:
        statements.append(allow(["dynamodb:BatchWriteItem", "dynamodb:DescribeTable", "dynamodb:GetItem",
                                 "dynamodb:PutItem"],
                                sub("arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/"
                                    "${ServingTable}"), "WriteTheServingTable"))
    if read_buckets:
        statements.append(allow(["s3:GetObject"], [bucket_arn(name, "/*") for name in read_buckets], "ReadItsInputs"))
    if write_buckets:
        databases = [locations.database(zone) for zone in zones["writes"]]
        objects = [bucket_arn(name, "/*") for name in write_buckets]
        tables = [sub(f"{catalog}:table/{name}/*") for name in databases]
        if "clean" not in zones["writes"]:
            objects.append(bucket_arn(bucket_logical_id("clean"), f"/{DQ_RESULTS_TABLE}/*"))
            databases.append(locations.database("clean"))
            tables.append(sub(f"{catalog}:table/{locations.database('clean')}/{DQ_RESULTS_TABLE}"))
        statements.append(allow(["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], objects, "WriteItsZone"))
        statements.append(allow(["glue:BatchCreatePartition", "glue:CreateTable", "glue:UpdatePartition",
                                 "glue:UpdateTable"],
                                [sub(f"{catalog}:catalog"), *[sub(f"{catalog}:database/{name}") for name in databases],
                                 *tables], "RegisterItsTables"))
    return {
        "Type": "AWS::IAM::Role",
        "Metadata": checkov_skips(("CKV_AWS_111", "cloudwatch:PutMetricData has no resource-level permissions; "
                                                  "the namespace is fixed by the job's code.")),
        "Properties": {
            "RoleName": sub(f"${{Stage}}-instacart-job-{job.replace('_', '-')}"),
            "Description": f"The Glue job {job}",
            "AssumeRolePolicyDocument": assume_role_policy("glue.amazonaws.com"),
            "Policies": [policy(job, statements)],
        },
    }


def _job(script: Path) -> dict[str, Any]:
    job = script.stem
    given = run_time_arguments(script)
    description = script_summary(script)
    if given:
        description += " Given at each run by its handler: " + ", ".join(f"--{name}" for name in given) + "."
    return {
        "Type": "AWS::Glue::Job",
        "Properties": {
            "Name": job,
            "Description": description[:2048],
            "Role": get_att(f"{camel(job)}Role", "Arn"),
            "GlueVersion": platform_version("glue"),
            "Command": {"Name": "glueetl", "PythonVersion": "3",
                        "ScriptLocation": sub(f"s3://${{ArtifactsBucket}}/${{CodePrefix}}/glue_jobs/{script.name}")},
            "DefaultArguments": _default_arguments(job),
            "ExecutionProperty": {"MaxConcurrentRuns": 1},
            "MaxRetries": 0,
            "Timeout": ref("JobTimeoutMinutes"),
            "WorkerType": ref(f"{camel(job)}WorkerType"),
            "NumberOfWorkers": ref(f"{camel(job)}Workers"),
            "SecurityConfiguration": ref(SECURITY_CONFIGURATION),
        },
    }


def ruleset_files() -> list[Path]:
    return sorted(RULESETS_DIR.glob("*/*.dqdl"))


def ruleset_target(path: Path) -> tuple[str, str]:
    """The (database, table) a ruleset file guards."""
    zone = RULESET_ZONES.get(path.parent.name, path.parent.name)
    return aws_locations().database(zone), path.stem


def _ruleset(path: Path) -> dict[str, Any]:
    database, table = ruleset_target(path)
    return {
        "Type": "AWS::Glue::DataQualityRuleset",
        "Properties": {
            "Name": sub(f"${{Stage}}-{database}-{table}"),
            "Description": f"instacart_lake/rulesets/{path.parent.name}/{path.name}",
            "Ruleset": path.read_text(encoding="utf-8"),
            "TargetTable": {"DatabaseName": database, "TableName": table},
        },
    }


def template() -> dict[str, Any]:
    scripts = glue_job_scripts()
    parameters: dict[str, Any] = {
        **STAGE_PARAMETER,
        **resource_parameters(*(bucket_logical_id(zone) for zone in ZONES), "ArtifactsBucket", "DataKey",
                              SECURITY_CONFIGURATION, "ServingTable"),
        "CodePrefix": string_parameter("The artifacts bucket's prefix of this code version (lake deploy)"),
        "JobTimeoutMinutes": {"Type": "Number", "Default": 120, "MinValue": 10,
                              "Description": "Minutes before a job run is stopped (TIMEOUT)"},
    }
    resources: dict[str, Any] = {}
    for script in scripts:
        name = camel(script.stem)
        parameters[f"{name}WorkerType"] = {"Type": "String", "Default": "G.1X",
                                           "AllowedValues": ["G.1X", "G.2X", "G.4X", "G.8X"],
                                           "Description": f"Worker type of {script.stem}"}
        parameters[f"{name}Workers"] = {"Type": "Number", "Default": 2, "MinValue": 2,
                                        "Description": f"Number of workers of {script.stem}"}
        resources[f"{name}Role"] = _job_role(script.stem)
        resources[name] = _job(script)
    for path in ruleset_files():
        resources[f"{camel(path.parent.name)}{camel(path.stem)}Ruleset"] = _ruleset(path)
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Instacart lake jobs: a Glue 5.0 job per script of glue_jobs/ with its role, and the DQDL "
                       "rulesets of instacart_lake/rulesets/.",
        "Parameters": parameters,
        "Resources": resources,
    }
