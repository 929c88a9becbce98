"""The parameters of the behavioural model (`simulate` tells how they are used).

The model, per user: a number of orders (4 to 100; casual and regular users), an order rhythm
(a typical gap in days, shorter for users with many orders, with a taste for weekly gaps),
a preferred day and hour, a basket size, a loyalty level and a few favourite aisles.
Per order: a size factor. Each product a user discovers (drawn by popularity, partly from the
favourite aisles) gets a reorder propensity (user loyalty + product reorderability + noise,
higher for the first basket) and a lifetime in orders; while alive it is bought again in each
later order with probability min(1, propensity x factor of that order).

The defaults are calibrated (at medium scale, checked at full scale with `lake stats`) to the
statistics of the real data and to an oracle F1 in [0.38, 0.50]. The main levers:
loyalty_mean sets the reorder rates and the share of candidates bought; propensity_noise and
the lifetimes set how predictable a user is, hence the oracle F1; loyalty_spread the share of
orders without a reordered product; basket_median the basket sizes; top_product_draw_factor
and top_product_skew the shares of Banana and of the top 20 products; the gap_* parameters the
days between orders.
"""

from __future__ import annotations

from dataclasses import dataclass

DOW_SHARES: tuple[float, ...] = (0.1757, 0.1717, 0.1366, 0.1277, 0.1246, 0.1325, 0.1312)
"""Share of real orders by order_dow 0..6."""

HOUR_SHARES: tuple[float, ...] = (
    0.00665, 0.00362, 0.00220, 0.00160, 0.00162, 0.00280, 0.00892, 0.02685, 0.05209, 0.07536,
    0.08431, 0.08323, 0.07975, 0.08126, 0.08274, 0.08291, 0.07967, 0.06688, 0.05347, 0.04109,
    0.03049, 0.02283, 0.01797, 0.01170,
)
"""Share of real orders by order_hour_of_day 0..23."""

MAX_BASKET = 145
"""The largest real basket."""


@dataclass(frozen=True)
class ModelParameters:
    # Orders per user: 4 + X, X geometric with a continuation probability per user type.
    regular_user_share: float = 0.49
    casual_continue: float = 0.81
    regular_continue: float = 0.956
    # Days between orders: a user's typical gap is gap_scale * orders^-gap_orders_exponent
    # times a lognormal user factor; each gap is gamma distributed around it, snapped to whole
    # weeks with the user's weekly habit probability, capped at 30.
    gap_scale_days: float = 80.0
    gap_orders_exponent: float = 0.7
    gap_user_spread: float = 0.8
    gap_order_shape: float = 2.5
    weekly_habit_a: float = 1.0
    weekly_habit_b: float = 2.5
    last_gap_factor: float = 1.35
    """The last order comes after a longer gap, as the real train and test orders do."""
    same_day_share: float = 0.002
    """Share of orders placed on the same day as the one before (a forgotten item)."""
    # Day and hour: the user's own with these probabilities, else drawn from the real shares.
    dow_loyalty: float = 0.4
    hour_loyalty: float = 0.5
    # Basket: new products per order are Poisson(basket * size factor * exploration(order)).
    basket_median: float = 6.3
    basket_spread: float = 0.5
    basket_cap: float = 50.0
    order_size_spread: float = 0.3
    order_size_cap: float = 2.0
    first_basket_factor: float = 1.0
    explore_early: float = 0.6
    explore_late: float = 0.45
    explore_decay_orders: float = 5.0
    # Exploration: a share of new products comes from a few favourite aisles.
    favourite_aisles: int = 6
    favourite_share: float = 0.5
    # Catalog popularity and reorderability (logit scale).
    zipf_exponent: float = 1.0
    top_product_draw_factor: float = 0.45
    top_product_skew: float = 2.8
    department_reorder_scale: float = 1.5
    popularity_reorder_slope: float = 0.4
    product_reorder_noise: float = 0.5
    # Reorder propensity of a (user, product): logit = loyalty + reorderability + noise.
    loyalty_mean: float = -3.12
    loyalty_spread: float = 0.6
    propensity_noise: float = 0.55
    first_basket_boost: float = 0.3
    # Longer gaps lower the chance of buying a product again, x (1 - drop * days / 30), and
    # raise the number of new products, x (1 + gain * days / 30).
    gap_reorder_drop: float = 0.1
    gap_explore_gain: float = 0.3
    # Lifetime: after each order a product is dropped with hazard base * (1 - propensity) + floor.
    lifetime_hazard: float = 0.06
    lifetime_hazard_floor: float = 0.025
    # Cart order: habitual products are added first.
    habit_cart_weight: float = 0.6
