-- Users by how often they order.
-- Users grouped by the mean days between their prior orders (weekly: at most 7, fortnightly:
-- at most 14, monthly: at most 21, rarely: more; unknown for a user with one prior order),
-- with the mean number of prior orders, the mean basket size and the mean reorder ratio.
SELECT
    frequency_band,
    COUNT(*) AS users,
    AVG(CAST(user_orders AS DOUBLE)) AS mean_prior_orders,
    AVG(user_average_basket) AS mean_basket_size,
    AVG(user_reorder_ratio) AS mean_reorder_ratio
FROM (
    SELECT
        CASE
            WHEN f1.user_mean_days_since_prior IS NULL THEN '5 unknown'
            WHEN f1.user_mean_days_since_prior <= 7 THEN '1 weekly'
            WHEN f1.user_mean_days_since_prior <= 14 THEN '2 fortnightly'
            WHEN f1.user_mean_days_since_prior <= 21 THEN '3 monthly'
            ELSE '4 rarely'
        END AS frequency_band,
        f1.user_orders,
        f2.user_average_basket,
        f2.user_reorder_ratio
    FROM instacart_curated.user_features_1 AS f1
    JOIN instacart_curated.user_features_2 AS f2 ON f2.user_id = f1.user_id
) AS users
GROUP BY frequency_band
ORDER BY frequency_band
