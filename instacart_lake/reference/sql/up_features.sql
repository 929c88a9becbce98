-- One row per user and product bought in a prior order.
-- (order_id, product_id) is the key of order_products__prior, so COUNT(DISTINCT order_id)
-- counts the orders of the user that contain the product.
WITH per_pair AS (
    SELECT
        user_id,
        product_id,
        COUNT(DISTINCT order_id) AS up_orders,
        MIN(order_number) AS up_first_order,
        MAX(order_number) AS up_last_order,
        AVG(add_to_cart_order) AS up_average_cart_position
    FROM prior_order_lines
    GROUP BY user_id, product_id
)
SELECT
    p.user_id,
    p.product_id,
    CAST(p.up_orders AS BIGINT) AS up_orders,
    CAST(p.up_first_order AS INTEGER) AS up_first_order,
    CAST(p.up_last_order AS INTEGER) AS up_last_order,
    CAST(p.up_average_cart_position AS DOUBLE) AS up_average_cart_position,
    CAST(p.up_orders AS DOUBLE) / NULLIF(u.user_orders, 0) AS up_order_rate,
    CAST(u.user_orders - p.up_last_order AS INTEGER) AS up_orders_since_last_order,
    CAST(p.up_orders AS DOUBLE) / NULLIF(u.user_orders - p.up_first_order + 1, 0)
        AS up_order_rate_since_first_order
FROM per_pair AS p
JOIN user_features_1 AS u ON u.user_id = p.user_id
