-- One row per candidate: a (user, product) pair from the user's prior orders, for every user
-- whose last order is train or test, with the features of the user, the product and the pair.
-- label: 1 when the product is in the user's train order, 0 when it is not, NULL for test users.
WITH last_orders AS (
    SELECT order_id, user_id, eval_set, days_since_prior_order
    FROM orders
    WHERE eval_set IN ('train', 'test')
),
pairs AS (
    SELECT DISTINCT user_id, product_id
    FROM prior_order_lines
)
SELECT
    lo.order_id,
    pairs.user_id,
    pairs.product_id,
    lo.eval_set,
    CASE
        WHEN lo.eval_set <> 'train' THEN NULL
        WHEN EXISTS (
            SELECT 1 FROM order_products__train AS t
            WHERE t.order_id = lo.order_id AND t.product_id = pairs.product_id
        ) THEN 1
        ELSE 0
    END::INTEGER AS label,
    u1.user_orders,
    u1.user_period,
    u1.user_mean_days_since_prior,
    u2.user_total_products,
    u2.user_distinct_products,
    u2.user_reorder_ratio,
    u2.user_average_basket,
    pf.prod_orders,
    pf.prod_reorders,
    pf.prod_first_orders,
    pf.prod_second_orders,
    pf.prod_reorder_probability,
    pf.prod_reorder_times,
    pf.prod_reorder_ratio,
    up.up_orders,
    up.up_first_order,
    up.up_last_order,
    up.up_average_cart_position,
    up.up_order_rate,
    up.up_orders_since_last_order,
    up.up_order_rate_since_first_order,
    lo.days_since_prior_order AS time_since_last_order,
    p.aisle_id,
    p.department_id
FROM pairs
JOIN last_orders AS lo ON lo.user_id = pairs.user_id
JOIN user_features_1 AS u1 ON u1.user_id = pairs.user_id
JOIN user_features_2 AS u2 ON u2.user_id = pairs.user_id
JOIN prd_features AS pf ON pf.product_id = pairs.product_id
JOIN up_features AS up ON up.user_id = pairs.user_id AND up.product_id = pairs.product_id
LEFT JOIN products AS p ON p.product_id = pairs.product_id
