"""How close to the oracle can any model get on generated data? An upper bound.

The oracle's probabilities (ground_truth.csv) use two facts that no order history shows:
whether each (user, product) pair is still "alive" at the last order (its lifetime in
orders, instacart_lake.generate.simulate), and the last order's size factor. This script
simulates users with the generator's own steps, keeps that hidden state, and scores the
expected-F1 baskets (instacart_lake.generate.oracle.score_oracle) of three predictors:

- oracle: the true probabilities, alive * min(1, r * f);
- unknown size factor: everything known but the last order's size factor, which is
  averaged out;
- unknown size factor and aliveness: each pair's true propensity r and death hazard are
  known, but aliveness is only the Bayes posterior given the orders since the pair's last
  purchase. This is better than any model can do: a model must also estimate r and the
  hazard from a few purchases.

    python benchmarks/ml_ceiling.py --users 20000

Writes benchmarks/results/ml_ceiling.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from instacart_lake.generate import simulate
from instacart_lake.generate.catalog import build_catalog
from instacart_lake.generate.model import ModelParameters
from instacart_lake.generate.oracle import score_oracle

RESULTS = Path(__file__).resolve().parent / "results"
SIZE_DRAWS = 256


def hidden_state(users_count: int, seed: int, parameters: ModelParameters) -> dict[str, np.ndarray]:
    """Per pair bought before its user's last order: the hidden and observed facts."""
    rng = np.random.default_rng(seed)
    catalog = build_catalog(np.random.default_rng(seed + 1), parameters)
    users = simulate._draw_users(rng, catalog, parameters, users_count)
    orders = simulate._draw_orders(rng, parameters, users)
    new_per_user = np.bincount(orders.user, weights=orders.new_products, minlength=users_count)
    user, product = simulate._draw_new_products(rng, catalog, parameters, users, new_per_user.astype(np.int64))
    pairs = simulate._make_pairs(rng, catalog, parameters, users, orders, user, product,
                                 np.repeat(np.arange(len(orders.user)), orders.new_products))
    rebuys = simulate._draw_rebuys(rng, users, orders, pairs)
    last_order = (np.cumsum(users.order_count) - 1)[pairs.user]
    before_last = rebuys.order < last_order[rebuys.pair]
    last_purchase = pairs.first_order.copy()
    np.maximum.at(last_purchase, rebuys.pair[before_last], rebuys.order[before_last])
    in_order = np.zeros(len(pairs.user), dtype=np.int8)
    in_order[rebuys.pair[rebuys.order == last_order[rebuys.pair]]] = 1
    chosen = pairs.first_order < last_order
    facts = {
        "user": pairs.user, "product": pairs.product, "in_order": in_order,
        "propensity": pairs.propensity,
        "hazard": parameters.lifetime_hazard * (1 - pairs.propensity) + parameters.lifetime_hazard_floor,
        "alive": orders.number[pairs.first_order] + pairs.lifetime >= users.order_count[pairs.user],
        "rebuy_factor": orders.rebuy_factor[last_order],
        "gap_factor": 1 - parameters.gap_reorder_drop * np.maximum(orders.days_since_prior[last_order], 0) / 30,
        "misses": last_order - last_purchase - 1,
    }
    return {name: values[chosen] for name, values in facts.items()}


def predictors(facts: dict[str, np.ndarray], parameters: ModelParameters, seed: int) -> dict[str, np.ndarray]:
    sizes = np.minimum(np.exp(parameters.order_size_spread * np.random.default_rng(seed).standard_normal(SIZE_DRAWS)
                              - parameters.order_size_spread ** 2 / 2), parameters.order_size_cap)
    r = facts["propensity"]
    without_size = np.minimum(1, (r * facts["gap_factor"])[:, None] * sizes[None, :]).mean(axis=1)
    buy = np.minimum(1, r[:, None] * sizes[None, :]).mean(axis=1)
    survive = 1 - facts["hazard"]
    k = facts["misses"]
    alive_likelihood = survive ** (k + 1) * (1 - buy) ** k
    step = survive * (1 - buy)
    dead_likelihood = (1 - survive) * (1 - step ** (k + 1)) / (1 - step)
    posterior_alive = alive_likelihood / (alive_likelihood + dead_likelihood)
    return {
        "oracle": np.where(facts["alive"], np.minimum(1, r * facts["rebuy_factor"]), 0.0),
        "unknown_size_factor": np.where(facts["alive"], without_size, 0.0),
        "unknown_size_factor_and_aliveness": posterior_alive * without_size,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    parameters = ModelParameters()
    facts = hidden_state(args.users, args.seed, parameters)
    scores = {}
    for name, probability in predictors(facts, parameters, args.seed).items():
        truth = pd.DataFrame({"order_id": facts["user"], "product_id": facts["product"],
                              "probability": probability, "in_order": facts["in_order"]})
        scores[name] = score_oracle(truth).mean_f1
    record = {"users": args.users, "seed": args.seed, "mean_f1": scores,
              "share_of_oracle": {name: score / scores["oracle"] for name, score in scores.items()}}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ml_ceiling.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
