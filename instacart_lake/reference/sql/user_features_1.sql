-- One row per user: statistics of the user's prior orders.
-- days_since_prior_order is NULL for the first order; SUM and AVG skip it.
SELECT
    user_id,
    CAST(MAX(order_number) AS INTEGER) AS user_orders,
    CAST(SUM(days_since_prior_order) AS BIGINT) AS user_period,
    CAST(AVG(days_since_prior_order) AS DOUBLE) AS user_mean_days_since_prior
FROM orders
WHERE eval_set = 'prior'
GROUP BY user_id
