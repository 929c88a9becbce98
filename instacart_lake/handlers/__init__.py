"""The Lambda handlers of the orchestration, one module per event kind (their names are in
instacart_lake/orchestration/pipeline.toml). Each starts the next stage and returns."""
