-- Why raw lines were quarantined, per job run.
-- For every job run of job 1, source table and reason code (a line can have several reasons,
-- `code` or `code:column`): the quarantined lines, the files they came from, and when.
WITH quarantine AS (
    SELECT 'aisles' AS table_name, run_id, source_file, reasons, quarantined_at
    FROM instacart_clean.aisles_quarantine
    UNION ALL
    SELECT 'departments', run_id, source_file, reasons, quarantined_at
    FROM instacart_clean.departments_quarantine
    UNION ALL
    SELECT 'products', run_id, source_file, reasons, quarantined_at
    FROM instacart_clean.products_quarantine
    UNION ALL
    SELECT 'orders', run_id, source_file, reasons, quarantined_at
    FROM instacart_clean.orders_quarantine
    UNION ALL
    SELECT 'order_products__prior', run_id, source_file, reasons, quarantined_at
    FROM instacart_clean.order_products__prior_quarantine
    UNION ALL
    SELECT 'order_products__train', run_id, source_file, reasons, quarantined_at
    FROM instacart_clean.order_products__train_quarantine
)
SELECT
    quarantine.run_id,
    quarantine.table_name,
    reason.reason,
    COUNT(*) AS quarantined_lines,
    COUNT(DISTINCT quarantine.source_file) AS source_files,
    MAX(quarantine.quarantined_at) AS quarantined_at
FROM quarantine
CROSS JOIN UNNEST(quarantine.reasons) AS reason(reason)
GROUP BY quarantine.run_id, quarantine.table_name, reason.reason
ORDER BY quarantine.run_id DESC, quarantine.table_name, quarantined_lines DESC, reason.reason
