"""The ML stage: SageMaker requests for the scripts in ml/, sent to SageMaker by the handlers
(instacart_lake.handlers) or run locally (the local runner), and model versions with their cards.

Order baskets (instacart_lake.ml.baskets) and the evaluation (instacart_lake.ml.evaluation)
are imported from their modules: they need pandas (and scikit-learn), which the handlers'
Lambdas do not load.
"""

from instacart_lake.ml.errors import JobFailed, MLStageError
from instacart_lake.ml.images import xgboost_image_uri
from instacart_lake.ml.job_requests import (
    MLStageSettings,
    build_scoring_request,
    build_training_request,
    ml_zone_settings,
    new_model_version,
    scored_set_uri,
    scores_uri,
)
from instacart_lake.ml.local_runner import LocalJobs, local_stage_settings
from instacart_lake.ml.model_card import (
    ModelCard,
    load_model_card,
    model_card_uri,
    record_evaluation,
    record_model_card,
)
from instacart_lake.ml.scripts import ML_SCRIPTS_DIR, package_scripts
from instacart_lake.ml.stage import (
    ScoringResult,
    StageResult,
    model_card_of_training_job,
    run_ml_stage,
    score_model_version,
    scoring_request,
    train_model_version,
)

__all__ = [
    "JobFailed", "LocalJobs", "MLStageError", "MLStageSettings", "ML_SCRIPTS_DIR",
    "ModelCard", "ScoringResult", "StageResult", "build_scoring_request", "build_training_request",
    "load_model_card", "local_stage_settings", "ml_zone_settings",
    "model_card_of_training_job", "model_card_uri", "new_model_version", "package_scripts", "record_evaluation",
    "record_model_card", "run_ml_stage", "score_model_version", "scored_set_uri", "scores_uri", "scoring_request",
    "train_model_version", "xgboost_image_uri",
]
