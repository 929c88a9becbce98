"""Simulate a block of users: their orders, the products in each order, and the true
probabilities of the candidates of their last order. Pure numpy, vectorized over the block.

How a user's history is built (parameters in `model.ModelParameters`):

1. Orders: count, gaps, day and hour, and a size factor per order.
2. New products per order (Poisson); the user's sequence of distinct products is drawn by
   popularity, partly from favourite aisles, and handed out to orders in sequence. An order's
   new products are first purchases (reordered = 0).
3. Each (user, product) gets a propensity r and a lifetime L in orders; in each of the next
   orders while alive it is bought again (reordered = 1) with probability min(1, r x f), f the
   order's factor (its size factor, lowered after a long gap).
4. An order left empty gets one more new product; an order over 145 products leaves out its
   least habitual products bought again.
5. The cart puts habitual products first.

The last order is simulated like the others; its candidates are the products of the prior
orders, and the probability that the model put on each one is known exactly: min(1, r x f) if
still alive, else 0. That is the ground truth (exact but for the rare last order cut at 145
products, where in_order tells what was left in the order).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from instacart_lake.generate.catalog import Catalog
from instacart_lake.generate.model import DOW_SHARES, HOUR_SHARES, MAX_BASKET, ModelParameters

MAX_ORDERS = 100
MIN_ORDERS = 4


@dataclass(frozen=True)
class UserBlock:
    """The simulated history of consecutive users. Orders are in user then order_number order;
    lines in order then cart order. Indexes are local to the block."""

    user_count: int
    order_user: np.ndarray
    order_number: np.ndarray
    order_dow: np.ndarray
    order_hour: np.ndarray
    days_since_prior: np.ndarray
    """-1 for a first order."""
    line_order: np.ndarray
    line_product: np.ndarray
    line_cart: np.ndarray
    line_reordered: np.ndarray
    truth_user: np.ndarray
    truth_product: np.ndarray
    truth_probability: np.ndarray
    truth_in_order: np.ndarray

    @property
    def order_count(self) -> int:
        return len(self.order_user)

    def last_order_index(self) -> np.ndarray:
        """Per user, the index of its last order."""
        return np.cumsum(np.bincount(self.order_user, minlength=self.user_count)) - 1


@dataclass(frozen=True)
class _Users:
    order_count: np.ndarray
    gap_days: np.ndarray
    weekly_habit: np.ndarray
    dow: np.ndarray
    hour: np.ndarray
    basket: np.ndarray
    loyalty: np.ndarray
    favourite_aisles: np.ndarray


@dataclass(frozen=True)
class _Orders:
    user: np.ndarray
    number: np.ndarray
    rebuy_factor: np.ndarray
    """Multiplies every propensity in the order: the size factor, lowered by a long gap."""
    dow: np.ndarray
    hour: np.ndarray
    days_since_prior: np.ndarray
    new_products: np.ndarray


@dataclass(frozen=True)
class _Pairs:
    """(user, product) pairs in user then discovery order, with the order of first purchase."""

    user: np.ndarray
    product: np.ndarray
    first_order: np.ndarray
    propensity: np.ndarray
    lifetime: np.ndarray


@dataclass(frozen=True)
class _Truth:
    user: np.ndarray
    product: np.ndarray
    probability: np.ndarray
    in_order: np.ndarray


@dataclass(frozen=True)
class _Rebuys:
    """The orders after each pair's first purchase in which it was bought again."""

    pair: np.ndarray
    order: np.ndarray


def simulate_block(rng: np.random.Generator, catalog: Catalog, parameters: ModelParameters,
                   user_count: int) -> UserBlock:
    users = _draw_users(rng, catalog, parameters, user_count)
    orders = _draw_orders(rng, parameters, users)
    new_per_user = np.bincount(orders.user, weights=orders.new_products, minlength=user_count)
    user, product = _draw_new_products(rng, catalog, parameters, users,
                                       new_per_user.astype(np.int64))
    pairs = _make_pairs(rng, catalog, parameters, users, orders, user, product,
                        np.repeat(np.arange(len(orders.user)), orders.new_products))
    rebuys = _draw_rebuys(rng, users, orders, pairs)

    lines_per_order = orders.new_products + np.bincount(rebuys.order, minlength=len(orders.user))
    empty_orders = np.flatnonzero(lines_per_order == 0)
    if len(empty_orders):
        fill_user, fill_product = _draw_new_products(
            rng, catalog, parameters, users,
            np.bincount(orders.user[empty_orders], minlength=user_count),
            taken=(pairs.user, pairs.product))
        fill_pairs = _make_pairs(rng, catalog, parameters, users, orders, fill_user, fill_product,
                                 empty_orders)
        fill_rebuys = _draw_rebuys(rng, users, orders, fill_pairs)
        rebuys = _Rebuys(np.concatenate([rebuys.pair, fill_rebuys.pair + len(pairs.user)]),
                         np.concatenate([rebuys.order, fill_rebuys.order]))
        pairs = _Pairs(*(np.concatenate([a, b]) for a, b in zip(
            (pairs.user, pairs.product, pairs.first_order, pairs.propensity, pairs.lifetime),
            (fill_pairs.user, fill_pairs.product, fill_pairs.first_order, fill_pairs.propensity,
             fill_pairs.lifetime))))

    rebuys = _cut_to_max_basket(orders, pairs, rebuys)
    line_order, line_product, line_cart, line_reordered = _cart_lines(rng, parameters, pairs, rebuys)
    truth = _ground_truth(users, orders, pairs, rebuys)
    return UserBlock(
        user_count=user_count,
        order_user=orders.user,
        order_number=orders.number,
        order_dow=orders.dow,
        order_hour=orders.hour,
        days_since_prior=orders.days_since_prior,
        line_order=line_order,
        line_product=line_product,
        line_cart=line_cart,
        line_reordered=line_reordered,
        truth_user=truth.user,
        truth_product=truth.product,
        truth_probability=truth.probability,
        truth_in_order=truth.in_order,
    )


def _draw_users(rng: np.random.Generator, catalog: Catalog, p: ModelParameters,
                count: int) -> _Users:
    regular = rng.random(count) < p.regular_user_share
    keep_going = np.where(regular, p.regular_continue, p.casual_continue)
    order_count = np.minimum(MIN_ORDERS + rng.geometric(1 - keep_going) - 1, MAX_ORDERS)
    gap_days = (p.gap_scale_days * order_count ** -p.gap_orders_exponent
                * np.exp(p.gap_user_spread * rng.standard_normal(count)))
    return _Users(
        order_count=order_count.astype(np.int64),
        gap_days=gap_days,
        weekly_habit=rng.beta(p.weekly_habit_a, p.weekly_habit_b, count),
        dow=rng.choice(7, size=count, p=_normalized(DOW_SHARES)),
        hour=rng.choice(24, size=count, p=_normalized(HOUR_SHARES)),
        basket=np.minimum(p.basket_median * np.exp(p.basket_spread * rng.standard_normal(count)),
                          p.basket_cap),
        loyalty=p.loyalty_mean + p.loyalty_spread * rng.standard_normal(count),
        favourite_aisles=catalog.draw_aisles(rng, count * p.favourite_aisles).reshape(count, -1),
    )


def _draw_orders(rng: np.random.Generator, p: ModelParameters, users: _Users) -> _Orders:
    counts = users.order_count
    total = int(counts.sum())
    user = np.repeat(np.arange(len(counts)), counts)
    number = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts) + 1
    is_last = number == counts[user]
    is_first = number == 1

    size = np.minimum(np.exp(p.order_size_spread * rng.standard_normal(total)
                             - p.order_size_spread ** 2 / 2), p.order_size_cap)
    gap = users.gap_days[user] * rng.gamma(p.gap_order_shape, 1 / p.gap_order_shape, total)
    gap[is_last] *= p.last_gap_factor
    weekly = (rng.random(total) < users.weekly_habit[user]) & (gap >= 3.5)
    gap = np.where(weekly, 7 * np.rint(gap / 7), gap)
    gap[rng.random(total) < p.same_day_share] = 0
    days = np.minimum(np.rint(gap), 30).astype(np.int8)
    days[is_first] = -1

    dow = np.where(rng.random(total) < p.dow_loyalty, users.dow[user],
                   rng.choice(7, size=total, p=_normalized(DOW_SHARES)))
    hour = np.where(rng.random(total) < p.hour_loyalty, users.hour[user],
                    rng.choice(24, size=total, p=_normalized(HOUR_SHARES)))

    gap_share = np.maximum(days, 0) / 30
    exploration = np.where(
        is_first, p.first_basket_factor,
        (p.explore_late + (p.explore_early - p.explore_late)
         * np.exp(-(number - 2) / p.explore_decay_orders))
        * (1 + p.gap_explore_gain * gap_share))
    new_products = np.minimum(rng.poisson(users.basket[user] * size * exploration), MAX_BASKET)
    new_products[is_first] = np.maximum(new_products[is_first], 1)
    rebuy_factor = size * (1 - p.gap_reorder_drop * gap_share)
    return _Orders(user=user, number=number.astype(np.int16), rebuy_factor=rebuy_factor,
                   dow=dow.astype(np.int8), hour=hour.astype(np.int8), days_since_prior=days,
                   new_products=new_products.astype(np.int64))


def _draw_new_products(rng: np.random.Generator, catalog: Catalog, p: ModelParameters,
                       users: _Users, needed: np.ndarray,
                       taken: tuple[np.ndarray, np.ndarray] | None = None,
                       ) -> tuple[np.ndarray, np.ndarray]:
    """For each user, `needed[user]` distinct products it has not taken yet, in discovery
    order; returned as (user, product) sorted by user, discovery order kept."""
    known_user = taken[0] if taken else np.empty(0, dtype=np.int64)
    known_product = taken[1] if taken else np.empty(0, dtype=np.int64)
    chosen_user: list[np.ndarray] = []
    chosen_product: list[np.ndarray] = []
    remaining = needed.astype(np.int64).copy()
    key_base = catalog.product_count + 1
    while remaining.any():
        wanting = np.flatnonzero(remaining)
        draws = np.ceil(remaining[wanting] * 1.2).astype(np.int64) + 2
        draw_user = np.repeat(wanting, draws)
        draw_product = _explore(rng, catalog, p, users, draw_user)
        all_user = np.concatenate([known_user, draw_user])
        all_product = np.concatenate([known_product, draw_product])
        _, first = np.unique(all_user * key_base + all_product, return_index=True)
        fresh = np.sort(first[first >= len(known_user)])
        fresh_user = all_user[fresh]
        accepted = fresh[_rank_in_runs(fresh_user) < remaining[fresh_user]]
        accepted_user, accepted_product = all_user[accepted], all_product[accepted]
        chosen_user.append(accepted_user)
        chosen_product.append(accepted_product)
        remaining -= np.bincount(accepted_user, minlength=len(remaining))
        known_user = np.concatenate([known_user, accepted_user])
        known_product = np.concatenate([known_product, accepted_product])
    user = np.concatenate(chosen_user) if chosen_user else np.empty(0, dtype=np.int64)
    product = np.concatenate(chosen_product) if chosen_product else np.empty(0, dtype=np.int64)
    by_user = np.argsort(user, kind="stable")
    return user[by_user], product[by_user]


def _explore(rng: np.random.Generator, catalog: Catalog, p: ModelParameters, users: _Users,
             draw_user: np.ndarray) -> np.ndarray:
    """A product per draw: from a favourite aisle of the user or any aisle, by popularity."""
    count = len(draw_user)
    favourite = users.favourite_aisles[draw_user, rng.integers(0, p.favourite_aisles, count)]
    aisle = np.where(rng.random(count) < p.favourite_share, favourite,
                     catalog.draw_aisles(rng, count))
    return catalog.draw_products_in(rng, aisle).astype(np.int64)


def _make_pairs(rng: np.random.Generator, catalog: Catalog, p: ModelParameters, users: _Users,
                orders: _Orders, user: np.ndarray, product: np.ndarray,
                first_order: np.ndarray) -> _Pairs:
    count = len(user)
    logit = (users.loyalty[user] + catalog.reorderability[product - 1]
             + p.propensity_noise * rng.standard_normal(count)
             + p.first_basket_boost * (orders.number[first_order] == 1))
    propensity = 1 / (1 + np.exp(-logit))
    hazard = p.lifetime_hazard * (1 - propensity) + p.lifetime_hazard_floor
    lifetime = rng.geometric(hazard)
    return _Pairs(user=user, product=product, first_order=first_order,
                  propensity=propensity, lifetime=lifetime)


def _draw_rebuys(rng: np.random.Generator, users: _Users, orders: _Orders,
                 pairs: _Pairs) -> _Rebuys:
    """Bernoulli draws in every order after a pair's first purchase while it is alive."""
    later_orders = users.order_count[pairs.user] - orders.number[pairs.first_order]
    alive = np.minimum(later_orders, pairs.lifetime)
    trial_pair = np.repeat(np.arange(len(pairs.user)), alive)
    step = np.arange(len(trial_pair)) - np.repeat(np.cumsum(alive) - alive, alive) + 1
    trial_order = pairs.first_order[trial_pair] + step
    probability = np.minimum(1.0, pairs.propensity[trial_pair] * orders.rebuy_factor[trial_order])
    bought = rng.random(len(trial_pair)) < probability
    return _Rebuys(pair=trial_pair[bought], order=trial_order[bought])


def _cut_to_max_basket(orders: _Orders, pairs: _Pairs, rebuys: _Rebuys) -> _Rebuys:
    """An order holds at most MAX_BASKET products: in a fuller order the least habitual
    products bought again are left out (new products are never left out, so every later
    purchase still follows a first one)."""
    new_per_order = np.bincount(pairs.first_order, minlength=len(orders.user))
    excess = new_per_order + np.bincount(rebuys.order, minlength=len(orders.user)) - MAX_BASKET
    if not np.any(excess > 0):
        return rebuys
    candidates = np.flatnonzero(excess[rebuys.order] > 0)
    candidates = candidates[np.lexsort((pairs.propensity[rebuys.pair[candidates]],
                                        rebuys.order[candidates]))]
    order = rebuys.order[candidates]
    keep = np.ones(len(rebuys.order), dtype=bool)
    keep[candidates[_rank_in_runs(order) < excess[order]]] = False
    return _Rebuys(pair=rebuys.pair[keep], order=rebuys.order[keep])


def _cart_lines(rng: np.random.Generator, p: ModelParameters, pairs: _Pairs, rebuys: _Rebuys):
    """Lines sorted by order then cart position; habitual products tend to come first."""
    order = np.concatenate([pairs.first_order, rebuys.order])
    product = np.concatenate([pairs.product, pairs.product[rebuys.pair]])
    reordered = np.concatenate([np.zeros(len(pairs.user), np.int8),
                                np.ones(len(rebuys.pair), np.int8)])
    habit = np.concatenate([np.zeros(len(pairs.user)), pairs.propensity[rebuys.pair]])
    key = rng.random(len(order)) * (1 - p.habit_cart_weight * habit)
    by_cart = np.argsort(order + 0.999 * key)
    order = order[by_cart]
    cart = _rank_in_runs(order) + 1
    return (order.astype(np.int32), product[by_cart].astype(np.int32), cart.astype(np.int16),
            reordered[by_cart])


def _ground_truth(users: _Users, orders: _Orders, pairs: _Pairs, rebuys: _Rebuys) -> _Truth:
    """Candidates of each user's last order (products first bought in a prior order), sorted by
    user and product, with the probability the model put on each and whether it was bought."""
    last_order = np.cumsum(users.order_count) - 1
    alive = orders.number[pairs.first_order] + pairs.lifetime >= users.order_count[pairs.user]
    chance = np.minimum(1.0, pairs.propensity * orders.rebuy_factor[last_order[pairs.user]])
    in_order = np.zeros(len(pairs.user), dtype=np.int8)
    in_order[rebuys.pair[rebuys.order == last_order[pairs.user[rebuys.pair]]]] = 1
    chosen = np.flatnonzero(pairs.first_order < last_order[pairs.user])
    chosen = chosen[np.lexsort((pairs.product[chosen], pairs.user[chosen]))]
    return _Truth(user=pairs.user[chosen].astype(np.int32),
                  product=pairs.product[chosen].astype(np.int32),
                  probability=np.where(alive, chance, 0.0)[chosen],
                  in_order=in_order[chosen])


def _rank_in_runs(keys: np.ndarray) -> np.ndarray:
    """0-based position of each element within its run of equal consecutive keys."""
    run_start = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return np.arange(len(keys)) - np.repeat(run_start, np.diff(np.r_[run_start, len(keys)]))


def _normalized(shares: tuple[float, ...]) -> np.ndarray:
    values = np.array(shares)
    return values / values.sum()
