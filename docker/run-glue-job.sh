#!/usr/bin/env bash
# Runs a job script of glue_jobs/ inside the AWS Glue 5 docker image, with Delta enabled as
# Glue enables it for --datalake-formats delta: the image's Delta jars (DATALAKE_FORMATS) and
# the Spark settings of instacart_lake/lake.toml's [spark.delta], the ones local sessions use.
#
#   docker/run-glue-job.sh raw_to_clean --lake_profile local
#
# The repository is mounted at /home/hadoop/workspace and the lake at /home/hadoop/lake
# (LAKE_ROOT, default ./lake). AWS credentials are passed through for the aws profile.
set -euo pipefail
cd "$(dirname "$0")/.."
job="${1:?usage: docker/run-glue-job.sh JOB [--arg value ...]}"
shift
[ -f "glue_jobs/$job.py" ] || { echo "error: no such job: glue_jobs/$job.py" >&2; exit 1; }
manifest() { python3 -c "import tomllib; m = tomllib.load(open('versions.toml', 'rb')); print($1)"; }
delta_confs=$(python3 -c "import tomllib; c = tomllib.load(open('instacart_lake/lake.toml', 'rb'))['spark']['delta']
print(' '.join(f'--conf {key}={value}' for key, value in c.items()))")
image=$(manifest 'm["platform"]["glue_docker_image"]')
# The image has Spark, boto3, pandas and pyarrow; the library also needs these pure additions.
extras=$(manifest '" ".join(p + "==" + m["python"][p] for p in ("lark", "rich", "sqlglot"))')
lake_root=$(realpath -m "${LAKE_ROOT:-lake}")
mkdir -p "$lake_root"
exec docker run --rm -it \
  -v "$PWD:/home/hadoop/workspace" \
  -v "$lake_root:/home/hadoop/lake" \
  -e LAKE_ROOT=/home/hadoop/lake \
  -e DATALAKE_FORMATS=delta \
  -e AWS_PROFILE -e AWS_REGION -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e AWS_SESSION_TOKEN \
  -e PYTHONPATH=/home/hadoop/workspace \
  --workdir /home/hadoop/workspace \
  --entrypoint /bin/bash "$image" -c \
  "pip3 install --quiet --user $extras && \
   spark-submit $delta_confs glue_jobs/$job.py --JOB_NAME $job $*"
