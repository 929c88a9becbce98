-- A user's predicted next basket, with product names.
-- The basket of the user's test order from the newest published model version (the one
-- scored last among those next_basket holds, which is committed after reorder_scores):
-- one row per predicted product with its name, aisle, department and reorder probability,
-- and a row with product_name 'None' when the basket predicts None.
-- :user_id integer  the user
WITH latest AS (
    SELECT model_version
    FROM instacart_curated.reorder_scores
    WHERE model_version IN (SELECT model_version FROM instacart_curated.next_basket)
    ORDER BY scored_at DESC, model_version DESC
    LIMIT 1
),
basket AS (
    SELECT nb.order_id, nb.user_id, nb.products, nb.includes_none, nb.expected_f1, nb.model_version
    FROM instacart_curated.next_basket AS nb
    JOIN latest ON latest.model_version = nb.model_version
    WHERE nb.user_id = :user_id
),
basket_products AS (
    SELECT basket.user_id, basket.order_id, basket.model_version, basket.expected_f1, predicted.product_id
    FROM basket
    CROSS JOIN UNNEST(basket.products) AS predicted(product_id)
)
SELECT
    bp.user_id,
    bp.order_id,
    bp.model_version,
    bp.expected_f1,
    bp.product_id,
    p.product_name,
    a.aisle,
    d.department,
    rs.probability
FROM basket_products AS bp
JOIN instacart_clean.products AS p ON p.product_id = bp.product_id
JOIN instacart_clean.aisles AS a ON a.aisle_id = p.aisle_id
JOIN instacart_clean.departments AS d ON d.department_id = p.department_id
LEFT JOIN instacart_curated.reorder_scores AS rs
    ON rs.user_id = bp.user_id
    AND rs.product_id = bp.product_id
    AND rs.model_version = bp.model_version
UNION ALL
SELECT
    basket.user_id,
    basket.order_id,
    basket.model_version,
    basket.expected_f1,
    CAST(NULL AS INTEGER) AS product_id,
    'None' AS product_name,
    CAST(NULL AS VARCHAR) AS aisle,
    CAST(NULL AS VARCHAR) AS department,
    CAST(NULL AS DOUBLE) AS probability
FROM basket
WHERE basket.includes_none
ORDER BY probability DESC NULLS LAST, product_id
