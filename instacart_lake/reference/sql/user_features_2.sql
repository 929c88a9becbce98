-- One row per user with at least one prior line.
-- A ratio with a zero denominator is NULL.
WITH per_user AS (
    SELECT
        user_id,
        COUNT(*) AS total_lines,
        COUNT(DISTINCT product_id) AS distinct_products,
        SUM(CASE WHEN reordered = 1 THEN 1 ELSE 0 END) AS reordered_lines,
        SUM(CASE WHEN order_number > 1 THEN 1 ELSE 0 END) AS lines_after_first_order
    FROM prior_order_lines
    GROUP BY user_id
)
SELECT
    p.user_id,
    CAST(p.total_lines AS BIGINT) AS user_total_products,
    CAST(p.distinct_products AS BIGINT) AS user_distinct_products,
    CAST(p.reordered_lines AS DOUBLE) / NULLIF(p.lines_after_first_order, 0) AS user_reorder_ratio,
    CAST(p.total_lines AS DOUBLE) / NULLIF(u.user_orders, 0) AS user_average_basket
FROM per_user AS p
JOIN user_features_1 AS u ON u.user_id = p.user_id
