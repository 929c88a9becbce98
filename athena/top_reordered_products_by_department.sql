-- The most reordered products of each department.
-- For every department, its products ranked by how many prior order lines were reorders
-- (ties by product_id), with the lines and the reorder rate (reorders / lines).
-- :top_n integer = 10  products per department
SELECT
    d.department,
    ranked.reorder_rank,
    ranked.product_id,
    p.product_name,
    ranked.order_lines,
    ranked.reorders,
    ranked.reorder_rate
FROM (
    SELECT
        per_product.*,
        ROW_NUMBER() OVER (
            PARTITION BY per_product.department_id
            ORDER BY per_product.reorders DESC, per_product.product_id
        ) AS reorder_rank
    FROM (
        SELECT
            pr.department_id,
            pr.product_id,
            COUNT(*) AS order_lines,
            SUM(op.reordered) AS reorders,
            CAST(SUM(op.reordered) AS DOUBLE) / COUNT(*) AS reorder_rate
        FROM instacart_clean.order_products__prior AS op
        JOIN instacart_clean.products AS pr ON pr.product_id = op.product_id
        GROUP BY pr.department_id, pr.product_id
    ) AS per_product
) AS ranked
JOIN instacart_clean.products AS p ON p.product_id = ranked.product_id
JOIN instacart_clean.departments AS d ON d.department_id = ranked.department_id
WHERE ranked.reorder_rank <= :top_n
ORDER BY d.department, ranked.reorder_rank
