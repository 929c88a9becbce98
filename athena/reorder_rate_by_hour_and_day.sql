-- The reorder rate by day of week and hour of day.
-- For every order_dow (0..6) and order_hour_of_day (0..23) that has prior orders: the orders,
-- their lines, the reordered lines and the reorder rate (reordered lines / lines).
SELECT
    o.order_dow,
    o.order_hour_of_day,
    COUNT(DISTINCT o.order_id) AS orders,
    COUNT(*) AS order_lines,
    SUM(op.reordered) AS reorders,
    CAST(SUM(op.reordered) AS DOUBLE) / COUNT(*) AS reorder_rate
FROM instacart_clean.orders AS o
JOIN instacart_clean.order_products__prior AS op ON op.order_id = o.order_id
GROUP BY o.order_dow, o.order_hour_of_day
ORDER BY o.order_dow, o.order_hour_of_day
