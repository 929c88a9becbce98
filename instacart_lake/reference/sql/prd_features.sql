-- One row per product with at least one prior line.
-- product_time: rank of an order among the orders in which the user bought the product.
WITH timed_lines AS (
    SELECT
        product_id,
        reordered,
        RANK() OVER (PARTITION BY user_id, product_id ORDER BY order_number) AS product_time
    FROM prior_order_lines
),
per_product AS (
    SELECT
        product_id,
        COUNT(*) AS prod_orders,
        SUM(reordered) AS prod_reorders,
        COUNT(*) FILTER (WHERE product_time = 1) AS prod_first_orders,
        COUNT(*) FILTER (WHERE product_time = 2) AS prod_second_orders
    FROM timed_lines
    GROUP BY product_id
)
SELECT
    product_id,
    CAST(prod_orders AS BIGINT) AS prod_orders,
    CAST(prod_reorders AS BIGINT) AS prod_reorders,
    CAST(prod_first_orders AS BIGINT) AS prod_first_orders,
    CAST(prod_second_orders AS BIGINT) AS prod_second_orders,
    CAST(prod_second_orders AS DOUBLE) / NULLIF(prod_first_orders, 0) AS prod_reorder_probability,
    1 + CAST(prod_reorders AS DOUBLE) / NULLIF(prod_first_orders, 0) AS prod_reorder_times,
    CAST(prod_reorders AS DOUBLE) / NULLIF(prod_orders, 0) AS prod_reorder_ratio
FROM per_product
