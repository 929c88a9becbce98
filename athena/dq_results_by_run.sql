-- Data-quality outcomes of every job run.
-- For every job run (run_id, a Glue job run id, which sorts by its start time) and table it
-- checked: the rules evaluated, how many passed, failed or could not be evaluated, how many
-- of the failed were stop, warn or quarantine rules, and the score (passed / rules).
SELECT
    run_id,
    table_name,
    COUNT(DISTINCT rule_name) AS rules,
    COUNT(DISTINCT CASE WHEN outcome = 'Passed' THEN rule_name END) AS passed,
    COUNT(DISTINCT CASE WHEN outcome = 'Failed' THEN rule_name END) AS failed,
    COUNT(DISTINCT CASE WHEN outcome = 'Error' THEN rule_name END) AS errors,
    COUNT(DISTINCT CASE WHEN outcome <> 'Passed' AND action = 'stop' THEN rule_name END) AS failed_stop,
    COUNT(DISTINCT CASE WHEN outcome <> 'Passed' AND action = 'warn' THEN rule_name END) AS failed_warn,
    COUNT(DISTINCT CASE WHEN outcome <> 'Passed' AND action = 'quarantine' THEN rule_name END) AS failed_quarantine,
    CAST(COUNT(DISTINCT CASE WHEN outcome = 'Passed' THEN rule_name END) AS DOUBLE)
        / COUNT(DISTINCT rule_name) AS score
FROM instacart_clean.dq_results
GROUP BY run_id, table_name
ORDER BY run_id DESC, table_name
