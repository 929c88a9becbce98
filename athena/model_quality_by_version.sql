-- The model versions side by side.
-- For every published model version of the gold tables (one that next_basket holds), when
-- it was scored, the test orders it predicted, its own estimate of its F1 (the mean expected
-- F1 of its baskets), the mean basket size, the share of baskets that include None, and its
-- candidates and their mean reorder probability.
WITH baskets AS (
    SELECT
        model_version,
        COUNT(*) AS test_orders,
        AVG(expected_f1) AS mean_expected_f1,
        AVG(CAST(CARDINALITY(products) AS DOUBLE)) AS mean_basket_products,
        AVG(CAST(includes_none AS DOUBLE)) AS share_including_none
    FROM instacart_curated.next_basket
    GROUP BY model_version
),
scores AS (
    SELECT
        model_version,
        MAX(scored_at) AS scored_at,
        COUNT(*) AS candidates,
        AVG(probability) AS mean_probability
    FROM instacart_curated.reorder_scores
    GROUP BY model_version
)
SELECT
    scores.model_version,
    scores.scored_at,
    baskets.test_orders,
    baskets.mean_expected_f1,
    baskets.mean_basket_products,
    baskets.share_including_none,
    scores.candidates,
    scores.mean_probability
FROM scores
JOIN baskets ON baskets.model_version = scores.model_version
ORDER BY scores.scored_at DESC, scores.model_version DESC
