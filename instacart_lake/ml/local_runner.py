"""Run the ML stage's SageMaker requests on this machine, the way the XGBoost container
would: the same request dictionaries, the same scripts, the same environment.

A CreateTrainingJob request becomes a subprocess running its `sagemaker_program` from its
`sagemaker_submit_directory` (a folder or a .tar.gz) with the script-mode environment the
SageMaker training toolkit sets (SM_MODEL_DIR, SM_CHANNEL_<NAME>, SM_HPS, SM_HP_<NAME>,
SM_HOSTS, ...) and the hyperparameters as command-line flags; the model folder is then
packed into <S3OutputPath>/<job>/output/model.tar.gz and the output data folder into
output.tar.gz beside it. A CreateProcessingJob request gets a container tree in its
scratch folder: each input's files are placed at its LocalPath (hard links, or copies
across file systems), each output's LocalPath is an empty folder, the python entry point
runs with every argument under /opt/ml/ pointing into the tree (so an argument may name
the parent of several inputs), and the outputs are copied to their S3Uri when the script
succeeds. Scripts must not write to their inputs: a hard link shares the lake's file.

Every URI in the requests is local (file:// or a plain path). A training channel that is
a folder is read in place; one that is a file is copied into a scratch folder, as
SageMaker downloads an S3 prefix that matches one object.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Mapping

from instacart_lake.context import Lake
from instacart_lake.locations import is_local, uri_to_path
from instacart_lake.ml.artifacts import pack_tar_gz, write_artifact
from instacart_lake.ml.errors import JobFailed, MLStageError
from instacart_lake.ml.job_requests import (
    MODEL_ARCHIVE_NAME,
    TRAINING_OUTPUT_ARCHIVE_NAME,
    MLStageSettings,
    ml_zone_settings,
)
from instacart_lake.ml.scripts import ML_SCRIPTS_DIR

LOGGER = logging.getLogger(__name__)

LOCAL_HOST = "algo-1"
LOCAL_REGION = "us-east-1"
LOCAL_ROLE_ARN = "arn:aws:iam::000000000000:role/local-ml-stage"
STDERR_TAIL_LINES = 20
_PASSED_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
_PYTHON_ENTRY_POINTS = ("python", "python3")
CONTAINER_ML_DIR = PurePosixPath("/opt/ml")


def local_stage_settings(lake: Lake, **settings: Any) -> MLStageSettings:
    """Settings for the lake's ml zone with the repository's ml/ scripts read in place;
    keywords override any field (hyperparameters, id_columns, ...)."""
    defaults = {
        "region": lake.config.region or LOCAL_REGION,
        "role_arn": LOCAL_ROLE_ARN,
        "training_source_uri": ML_SCRIPTS_DIR.as_uri(),
        "scoring_code_uri": ML_SCRIPTS_DIR.as_uri(),
    }
    return ml_zone_settings(lake.locations, **{**defaults, **settings})


def decode_hyperparameters(encoded: Mapping[str, str]) -> dict[str, Any]:
    """Hyperparameters as the training toolkit reads them: each value JSON-decoded, or kept
    as the plain string when it is not JSON."""
    decoded = {}
    for name, value in encoded.items():
        try:
            decoded[name] = json.loads(value)
        except json.JSONDecodeError:
            decoded[name] = value
    return decoded


def _env_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def hyperparameter_arguments(hyperparameters: Mapping[str, Any]) -> list[str]:
    """`--name value` pairs in name order, the command line the toolkit gives the script."""
    arguments = []
    for name in sorted(hyperparameters):
        arguments += [f"--{name}", str(hyperparameters[name])]
    return arguments


def training_environment(
    *,
    job_name: str,
    program: str,
    submit_directory: str,
    channels: Mapping[str, Path],
    hyperparameters: Mapping[str, Any],
    input_data_config: Mapping[str, Any],
    root: Path,
    num_cpus: int,
    log_level: int,
) -> dict[str, str]:
    """The SM_* variables of script mode, for a job whose /opt/ml is `root`."""
    resource_config = {"current_host": LOCAL_HOST, "hosts": [LOCAL_HOST], "network_interface_name": "eth0"}
    training_env = {
        "channel_input_dirs": {name: str(path) for name, path in channels.items()},
        "current_host": LOCAL_HOST,
        "hosts": [LOCAL_HOST],
        "hyperparameters": dict(hyperparameters),
        "input_config_dir": str(root / "input" / "config"),
        "input_data_config": dict(input_data_config),
        "input_dir": str(root / "input"),
        "job_name": job_name,
        "log_level": log_level,
        "model_dir": str(root / "model"),
        "module_dir": submit_directory,
        "module_name": Path(program).stem,
        "num_cpus": num_cpus,
        "num_gpus": 0,
        "output_data_dir": str(root / "output" / "data"),
        "output_dir": str(root / "output"),
        "resource_config": resource_config,
        "user_entry_point": program,
    }
    variables = {
        "SM_HOSTS": _env_value([LOCAL_HOST]),
        "SM_CURRENT_HOST": LOCAL_HOST,
        "SM_NETWORK_INTERFACE_NAME": "eth0",
        "SM_NUM_CPUS": str(num_cpus),
        "SM_NUM_GPUS": "0",
        "SM_LOG_LEVEL": str(log_level),
        "SM_MODEL_DIR": training_env["model_dir"],
        "SM_OUTPUT_DIR": training_env["output_dir"],
        "SM_OUTPUT_DATA_DIR": training_env["output_data_dir"],
        "SM_INPUT_DIR": training_env["input_dir"],
        "SM_INPUT_CONFIG_DIR": training_env["input_config_dir"],
        "SM_CHANNELS": _env_value(sorted(channels)),
        "SM_HPS": _env_value(dict(hyperparameters)),
        "SM_USER_ENTRY_POINT": program,
        "SM_MODULE_NAME": training_env["module_name"],
        "SM_MODULE_DIR": submit_directory,
        "SM_USER_ARGS": _env_value(hyperparameter_arguments(hyperparameters)),
        "SM_FRAMEWORK_PARAMS": "{}",
        "SM_RESOURCE_CONFIG": _env_value(resource_config),
        "SM_INPUT_DATA_CONFIG": _env_value(dict(input_data_config)),
        "SM_TRAINING_ENV": _env_value(training_env),
    }
    variables.update({f"SM_CHANNEL_{name.upper()}": str(path) for name, path in channels.items()})
    variables.update({f"SM_HP_{name.upper()}": _env_value(value) for name, value in hyperparameters.items()})
    return variables


def _local_path(uri: str, what: str) -> Path:
    if not is_local(uri):
        raise MLStageError(f"the local runner reads local URIs only; {what} is {uri}")
    return Path(uri_to_path(uri))


def _stage_input(uri: str, what: str, scratch: Path) -> Path:
    """The local folder that stands for the S3 prefix `uri`."""
    path = _local_path(uri, what)
    if path.is_dir():
        return path
    if not path.is_file():
        raise MLStageError(f"{what} {uri} does not exist")
    scratch.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, scratch / path.name)
    return scratch


def _folder_files(folder: Path) -> dict[str, Path]:
    return {path.relative_to(folder).as_posix(): path for path in folder.rglob("*") if path.is_file()}


def _stderr_tail(stderr: str) -> str:
    return "\n".join(stderr.rstrip().splitlines()[-STDERR_TAIL_LINES:])


def _files_of_prefix(uri: str, what: str) -> dict[str, Path]:
    """The files SageMaker downloads for the S3 prefix `uri`, by their path under the
    LocalPath: a folder's files with their relative paths, or the one file by its name."""
    path = _local_path(uri, what)
    if path.is_dir():
        return _folder_files(path)
    if path.is_file():
        return {path.name: path}
    raise MLStageError(f"{what} {uri} does not exist")


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _check_container_paths(job_name: str, local_paths: Iterable[str]) -> None:
    """Every LocalPath lies under /opt/ml/ and no two of them are the same or nested."""
    paths = [PurePosixPath(path) for path in local_paths]
    for path in paths:
        if path == CONTAINER_ML_DIR or not path.is_relative_to(CONTAINER_ML_DIR) or ".." in path.parts:
            raise MLStageError(f"processing job {job_name}: LocalPath {path} is not a folder "
                               f"under {CONTAINER_ML_DIR}/")
    for first, second in combinations(paths, 2):
        if first.is_relative_to(second) or second.is_relative_to(first):
            raise MLStageError(f"processing job {job_name}: LocalPaths {first} and {second} overlap")


def _in_container_tree(container_path: str, container_root: Path) -> Path:
    return container_root / PurePosixPath(container_path).relative_to("/")


def container_argument(argument: str, container_root: Path) -> str:
    """An argument naming a container path (under /opt/ml/) as the same path in the job's
    container tree at `container_root`; any other argument as it is."""
    if argument.startswith(f"{CONTAINER_ML_DIR}/"):
        return str(_in_container_tree(argument, container_root))
    return argument


@dataclass(frozen=True)
class LocalJobs:
    """Runs training and processing requests as subprocesses; each returns what
    SageMaker's Describe call would once the job has ended."""

    python: str = sys.executable
    num_cpus: int = field(default_factory=lambda: os.cpu_count() or 1)

    def run_training(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Run a CreateTrainingJob request; the DescribeTrainingJob-shaped result."""
        job_name = request["TrainingJobName"]
        hyperparameters = decode_hyperparameters(request.get("HyperParameters", {}))
        framework = {name: value for name, value in hyperparameters.items() if name.startswith("sagemaker_")}
        user_hyperparameters = {name: value for name, value in hyperparameters.items() if name not in framework}
        for required in ("sagemaker_program", "sagemaker_submit_directory"):
            if required not in framework:
                raise MLStageError(f"training job {job_name}: hyperparameter {required} is missing (script mode)")
        program = framework["sagemaker_program"]
        artifacts_uri = f"{request['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{job_name}/output"
        with tempfile.TemporaryDirectory(prefix=f"{job_name}-") as scratch:
            root = Path(scratch)
            code_dir = self._source_dir(framework["sagemaker_submit_directory"], root / "code")
            channels = {
                channel["ChannelName"]: _stage_input(
                    channel["DataSource"]["S3DataSource"]["S3Uri"], f"channel {channel['ChannelName']}",
                    root / "input" / "data" / channel["ChannelName"])
                for channel in request["InputDataConfig"]
            }
            input_data_config = {
                channel["ChannelName"]: {
                    "ContentType": channel.get("ContentType", ""),
                    "TrainingInputMode": channel.get("InputMode", "File"),
                    "S3DistributionType": channel["DataSource"]["S3DataSource"].get(
                        "S3DataDistributionType", "FullyReplicated"),
                    "RecordWrapperType": "None",
                }
                for channel in request["InputDataConfig"]
            }
            config_dir = root / "input" / "config"
            config_dir.mkdir(parents=True, exist_ok=True)
            (config_dir / "hyperparameters.json").write_text(json.dumps(request.get("HyperParameters", {})))
            (config_dir / "inputdataconfig.json").write_text(json.dumps(input_data_config))
            for folder in (root / "model", root / "output" / "data"):
                folder.mkdir(parents=True, exist_ok=True)
            environment = training_environment(
                job_name=job_name, program=program, submit_directory=framework["sagemaker_submit_directory"],
                channels=channels, hyperparameters=user_hyperparameters, input_data_config=input_data_config,
                root=root, num_cpus=self.num_cpus,
                log_level=int(framework.get("sagemaker_container_log_level", logging.INFO)))
            self._run(
                job_name,
                [self.python, str(code_dir / program), *hyperparameter_arguments(user_hyperparameters)],
                environment, cwd=code_dir,
                timeout=request["StoppingCondition"]["MaxRuntimeInSeconds"],
                failure_file=root / "output" / "failure")
            model_uri = f"{artifacts_uri}/{MODEL_ARCHIVE_NAME}"
            write_artifact(model_uri, pack_tar_gz(_folder_files(root / "model")))
            write_artifact(f"{artifacts_uri}/{TRAINING_OUTPUT_ARCHIVE_NAME}",
                           pack_tar_gz(_folder_files(root / "output" / "data")))
        LOGGER.info("training job %s completed: %s", job_name, model_uri)
        return {
            **request,
            "TrainingJobStatus": "Completed",
            "SecondaryStatus": "Completed",
            "ModelArtifacts": {"S3ModelArtifacts": model_uri},
        }

    def run_processing(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Run a CreateProcessingJob request; the DescribeProcessingJob-shaped result."""
        job_name = request["ProcessingJobName"]
        app = request["AppSpecification"]
        entry_point = app.get("ContainerEntrypoint") or []
        if not entry_point or entry_point[0] not in _PYTHON_ENTRY_POINTS:
            raise MLStageError(f"processing job {job_name}: the local runner runs python entry points only, "
                               f"got {entry_point!r}")
        inputs = [item["S3Input"] for item in request.get("ProcessingInputs", [])]
        outputs = [item["S3Output"] for item in request.get("ProcessingOutputConfig", {}).get("Outputs", [])]
        _check_container_paths(job_name, [item["LocalPath"] for item in inputs + outputs])
        with tempfile.TemporaryDirectory(prefix=f"{job_name}-") as scratch:
            root = Path(scratch)
            container_root = root / "container"
            for item in request.get("ProcessingInputs", []):
                mount = _in_container_tree(item["S3Input"]["LocalPath"], container_root)
                mount.mkdir(parents=True)
                for name, source in _files_of_prefix(item["S3Input"]["S3Uri"], f"input {item['InputName']}").items():
                    _link_or_copy(source, mount / name)
            output_folders = []
            for s3_output in outputs:
                folder = _in_container_tree(s3_output["LocalPath"], container_root)
                folder.mkdir(parents=True)
                output_folders.append((folder, s3_output["S3Uri"].rstrip("/")))
            arguments = [*entry_point[1:], *app.get("ContainerArguments", [])]
            command = [self.python, *(container_argument(argument, container_root) for argument in arguments)]
            self._run(job_name, command, dict(request.get("Environment", {})), cwd=root,
                      timeout=request["StoppingCondition"]["MaxRuntimeInSeconds"])
            for folder, uri in output_folders:
                for name, path in sorted(_folder_files(folder).items()):
                    write_artifact(f"{uri}/{name}", path.read_bytes())
        LOGGER.info("processing job %s completed", job_name)
        return {**request, "ProcessingJobStatus": "Completed"}

    def _source_dir(self, submit_directory: str, scratch: Path) -> Path:
        """The folder of the entry point: the submit directory itself, or its unpacked .tar.gz."""
        path = _local_path(submit_directory, "sagemaker_submit_directory")
        if path.is_dir():
            return path
        if not path.is_file():
            raise MLStageError(f"sagemaker_submit_directory {submit_directory} does not exist")
        scratch.mkdir(parents=True)
        with tarfile.open(path, "r:gz") as archive:
            archive.extractall(scratch, filter="data")
        return scratch

    def _run(self, job_name: str, command: list[str], job_environment: Mapping[str, str], *,
             cwd: Path, timeout: int, failure_file: Path | None = None) -> None:
        environment = {name: os.environ[name] for name in _PASSED_ENVIRONMENT if name in os.environ}
        environment.update(job_environment)
        LOGGER.info("running job %s: %s", job_name, " ".join(command))
        try:
            completed = subprocess.run(command, env=environment, cwd=cwd, capture_output=True, text=True,
                                       timeout=timeout, check=False)
        except subprocess.TimeoutExpired as error:
            raise JobFailed(job_name, f"ran longer than MaxRuntimeInSeconds={timeout}") from error
        LOGGER.debug("job %s stderr:\n%s", job_name, completed.stderr)
        if completed.returncode != 0:
            reason = f"exit status {completed.returncode}"
            if failure_file is not None and failure_file.is_file():
                reason = f"{failure_file.read_text().strip()} ({reason})"
            raise JobFailed(job_name, f"{reason}; stderr tail:\n{_stderr_tail(completed.stderr)}")
