-- The data-quality rules that did not pass, newest job run first.
-- One row per job run, table and rule that failed or could not be evaluated: the rule, its
-- action (stop, warn, quarantine) and why it failed.
SELECT DISTINCT
    run_id,
    table_name,
    rule_name,
    rule,
    outcome,
    action,
    failure_reason
FROM instacart_clean.dq_results
WHERE outcome <> 'Passed'
ORDER BY run_id DESC, table_name, rule_name
