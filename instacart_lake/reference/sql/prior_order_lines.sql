-- One row per product in a prior order, with the order's user and order number.
-- Only orders with eval_set = 'prior' take part: the train/test order never reaches a feature.
SELECT
    o.user_id,
    o.order_id,
    o.order_number,
    l.product_id,
    l.add_to_cart_order,
    l.reordered
FROM order_products__prior AS l
JOIN orders AS o ON o.order_id = l.order_id
WHERE o.eval_set = 'prior'
