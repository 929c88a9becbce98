"""The synthetic product catalog: departments, aisles and 49,688 named products, with the hidden
attributes the behavioural model needs (how often a product is explored, how reorderable it is).

Products are ranked by popularity inside their aisle (Zipf); the 20 most popular real products
keep their real ids and names and head their aisles. Other names are composed from a vocabulary
and include commas, quotes and non-ASCII letters, as real product names do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from instacart_lake.generate.catalog_data import (
    ACCENTED_BRANDS,
    ACCENTED_FLAVORS,
    ACCENTED_SHARE,
    AISLES,
    BRANDS,
    DEPARTMENT_NOUNS,
    DEPARTMENT_REORDER_RATIO,
    DEPARTMENTS,
    FLAVORS,
    FOOD_DEPARTMENT_IDS,
    PRODUCT_COUNT,
    QUALIFIERS,
    SIZES,
    TOP_PRODUCTS,
)
from instacart_lake.generate.model import ModelParameters


@dataclass(frozen=True)
class Catalog:
    """Departments, aisles and products. Product arrays are indexed by product_id - 1."""

    department_names: tuple[str, ...]
    aisle_names: tuple[str, ...]
    product_names: tuple[str, ...]
    product_aisle_ids: np.ndarray
    product_department_ids: np.ndarray
    reorderability: np.ndarray
    """Logit-scale shift of the reorder propensity of each product."""
    aisle_weights: np.ndarray
    """Probability that an exploration draw lands in each aisle (indexed by aisle_id - 1)."""
    aisle_cumulative: np.ndarray
    """Products sorted by aisle: aisle index a + cumulative popularity in the aisle, in (a, a+1]."""
    aisle_sorted_product_ids: np.ndarray
    aisle_end: np.ndarray
    """Per aisle index, the end of its run in the aisle-sorted arrays."""

    @property
    def product_count(self) -> int:
        return len(self.product_names)

    def draw_aisles(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Aisle indexes (aisle_id - 1) drawn by aisle popularity."""
        return rng.choice(len(self.aisle_weights), size=size, p=self.aisle_weights)

    def draw_products_in(self, rng: np.random.Generator, aisle_indexes: np.ndarray) -> np.ndarray:
        """One product_id per given aisle index, by popularity inside the aisle."""
        targets = aisle_indexes + rng.random(len(aisle_indexes))
        positions = np.searchsorted(self.aisle_cumulative, targets, side="right")
        last_in_aisle = self.aisle_end[aisle_indexes] - 1
        return self.aisle_sorted_product_ids[np.minimum(positions, last_in_aisle)]


def build_catalog(rng: np.random.Generator, parameters: ModelParameters) -> Catalog:
    aisle_count = len(AISLES)
    aisle_department_ids = np.array([department for _, department, _ in AISLES], dtype=np.int32)
    aisle_shares = np.array([share for _, _, share in AISLES])
    aisle_weights = aisle_shares / aisle_shares.sum()

    counts = _products_per_aisle(rng, aisle_count)
    aisle_end = np.cumsum(counts)
    aisle_start = aisle_end - counts
    aisle_of_sorted = np.repeat(np.arange(aisle_count), counts)
    sorted_product_ids, top_share = _assign_product_ids(rng, aisle_start)
    top_count = np.bincount(aisle_of_sorted[top_share > 0], minlength=aisle_count)
    rank_in_aisle = np.arange(PRODUCT_COUNT) - aisle_start[aisle_of_sorted] + 1
    zipf = np.where(top_share > 0, 0.0,
                    rank_in_aisle.astype(np.float64) ** -parameters.zipf_exponent)
    # The top products take their own share of draws; the rest of the aisle follows Zipf.
    skewed = top_share ** parameters.top_product_skew
    top_draw_share = parameters.top_product_draw_factor * skewed * top_share.sum() / skewed.sum()
    top_within = top_draw_share / aisle_weights[aisle_of_sorted]
    rest = 1 - np.bincount(aisle_of_sorted, weights=top_within, minlength=aisle_count)
    if np.any(rest <= 0) or np.any(top_count >= counts):
        raise ValueError("top products take more than their aisle")
    zipf_share = zipf / np.bincount(aisle_of_sorted, weights=zipf)[aisle_of_sorted]
    within_share = top_within + zipf_share * rest[aisle_of_sorted]
    # Each aisle's shares sum to 1, so the running sum inside aisle a runs from a to a + 1.
    aisle_cumulative = np.cumsum(within_share)
    aisle_cumulative[aisle_end - 1] = np.arange(1, aisle_count + 1)

    index = sorted_product_ids - 1
    popularity = np.empty(PRODUCT_COUNT)
    popularity[index] = aisle_weights[aisle_of_sorted] * within_share
    aisle_ids = np.empty(PRODUCT_COUNT, dtype=np.int32)
    aisle_ids[index] = aisle_of_sorted + 1
    department_ids = aisle_department_ids[aisle_ids - 1]

    department_logit = _logit(np.array(DEPARTMENT_REORDER_RATIO))
    department_shift = (parameters.department_reorder_scale
                        * (department_logit - department_logit.mean()))
    log_popularity = np.log(popularity)
    popularity_z = (log_popularity - log_popularity.mean()) / log_popularity.std()
    is_top = np.zeros(PRODUCT_COUNT, dtype=bool)
    is_top[[product_id - 1 for product_id, _, _, _ in TOP_PRODUCTS]] = True
    reorderability = (department_shift[department_ids - 1]
                      + parameters.popularity_reorder_slope * popularity_z
                      + np.where(is_top, 0.0, parameters.product_reorder_noise)
                      * rng.standard_normal(PRODUCT_COUNT))

    names = _product_names(rng, department_ids)
    return Catalog(
        department_names=DEPARTMENTS,
        aisle_names=tuple(name for name, _, _ in AISLES),
        product_names=names,
        product_aisle_ids=aisle_ids,
        product_department_ids=department_ids,
        reorderability=reorderability,
        aisle_weights=aisle_weights,
        aisle_cumulative=aisle_cumulative,
        aisle_sorted_product_ids=sorted_product_ids,
        aisle_end=aisle_end,
    )


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1 - p))


def _products_per_aisle(rng: np.random.Generator, aisle_count: int) -> np.ndarray:
    """Products per aisle: lognormal around the mean, at least 12, summing to PRODUCT_COUNT."""
    raw = np.exp(0.6 * rng.standard_normal(aisle_count))
    counts = np.maximum(12, np.floor(raw / raw.sum() * PRODUCT_COUNT)).astype(np.int64)
    top_aisles = np.array([aisle_id - 1 for _, _, aisle_id, _ in TOP_PRODUCTS])
    counts[top_aisles] = np.maximum(counts[top_aisles], 300)
    shortfall = PRODUCT_COUNT - counts.sum()
    largest = np.argsort(-counts, kind="stable")
    step = 1 if shortfall > 0 else -1
    position = 0
    while shortfall != 0:
        counts[largest[position % aisle_count]] += step
        shortfall -= step
        position += 1
    return counts


def _assign_product_ids(rng: np.random.Generator,
                        aisle_start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """product_ids of the aisle-sorted products, and their share of real lines (0 if not a top
    product): the top real products keep their real ids and head their aisles; the others get
    the remaining ids in random order."""
    product_ids = np.zeros(PRODUCT_COUNT, dtype=np.int32)
    shares = np.zeros(PRODUCT_COUNT)
    next_rank: dict[int, int] = {}
    for product_id, _, aisle_id, share in TOP_PRODUCTS:
        rank = next_rank.get(aisle_id, 0)
        product_ids[aisle_start[aisle_id - 1] + rank] = product_id
        shares[aisle_start[aisle_id - 1] + rank] = share / 100
        next_rank[aisle_id] = rank + 1
    reserved = np.array([product_id for product_id, _, _, _ in TOP_PRODUCTS])
    free_ids = np.setdiff1d(np.arange(1, PRODUCT_COUNT + 1), reserved)
    product_ids[product_ids == 0] = rng.permutation(free_ids)
    return product_ids, shares


def _product_names(rng: np.random.Generator, department_ids: np.ndarray) -> tuple[str, ...]:
    """Unique names by product_id: the real names of the top products, composed names otherwise."""
    names: list[str | None] = [None] * PRODUCT_COUNT
    taken: set[str] = set()
    for product_id, name, _, _ in TOP_PRODUCTS:
        names[product_id - 1] = name
        taken.add(name)
    choices = rng.random((PRODUCT_COUNT, 7)).tolist()
    picks = rng.integers(0, 1 << 30, size=(PRODUCT_COUNT, 5)).tolist()
    for index in range(PRODUCT_COUNT):
        if names[index] is not None:
            continue
        department_id = int(department_ids[index])
        name = _compose_name(department_id, choices[index], picks[index])
        candidate, variant = name, 2
        while candidate in taken:
            candidate = f"{name} {SIZES[(picks[index][4] + variant) % len(SIZES)]}"
            if candidate in taken:
                candidate = f"{name} Pack of {variant}"
            variant += 1
        names[index] = candidate
        taken.add(candidate)
    return tuple(names)


def _compose_name(department_id: int, choice: list[float], pick: list[int]) -> str:
    """[brand] [qualifier] [flavor] noun [size]; a few as "noun, qualifier" or with a quoted word."""
    nouns = DEPARTMENT_NOUNS[department_id - 1]
    noun = nouns[pick[0] % len(nouns)]
    brands = ACCENTED_BRANDS if choice[5] < ACCENTED_SHARE else BRANDS
    brand = brands[pick[1] % len(brands)]
    qualifier = QUALIFIERS[pick[2] % len(QUALIFIERS)]
    flavors = ACCENTED_FLAVORS if choice[6] < ACCENTED_SHARE else FLAVORS
    flavor = flavors[pick[3] % len(flavors)] if department_id in FOOD_DEPARTMENT_IDS else None
    if choice[0] < 0.03:
        return f"{noun}, {flavor or qualifier}"
    if choice[0] < 0.035:
        return f'{brand} "{qualifier}" {noun}'
    parts = [brand] if choice[1] < 0.7 else []
    if choice[2] < 0.4:
        parts.append(qualifier)
    if flavor and choice[3] < 0.45:
        parts.append(flavor)
    parts.append(noun)
    if choice[4] < 0.2:
        parts.append(SIZES[pick[4] % len(SIZES)])
    return " ".join(parts)
