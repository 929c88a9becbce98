"""How big a generated dataset is, and the random streams that make it reproducible.

Every random draw comes from a PCG64 generator seeded by (seed, stream, scale's user count,
block): the same seed and scale give the same files, whatever the number of worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from instacart_lake.errors import LakeError

REAL_USER_COUNT = 206_209
REAL_TEST_USER_COUNT = 75_000


@dataclass(frozen=True)
class Scale:
    name: str
    user_count: int
    block_users: int = 10_000
    """Users simulated together; blocks are independent, so they can run in parallel."""

    @property
    def test_user_count(self) -> int:
        """Users whose last order is a test order, in the real proportion (75,000 of 206,209)."""
        return round(self.user_count * REAL_TEST_USER_COUNT / REAL_USER_COUNT)

    @property
    def block_count(self) -> int:
        return -(-self.user_count // self.block_users)

    def users_in_block(self, block: int) -> int:
        return min(self.block_users, self.user_count - block * self.block_users)


SCALES: dict[str, Scale] = {
    scale.name: scale
    for scale in (
        Scale("tiny", 100),
        Scale("small", 2_000),
        Scale("medium", 20_000),
        Scale("full", REAL_USER_COUNT),
    )
}


def scale_named(name: str) -> Scale:
    if name not in SCALES:
        raise LakeError(f"unknown scale {name!r} (known: {', '.join(SCALES)})")
    return SCALES[name]


_CATALOG_STREAM = 0
_USERS_STREAM = 1
_BLOCK_STREAM = 2
_DEFECTS_STREAM = 3


def _generator(seed: int, *key: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def catalog_generator(seed: int) -> np.random.Generator:
    """The catalog depends on the seed only: every scale of a seed has the same products."""
    return _generator(seed, _CATALOG_STREAM)


def users_generator(seed: int, scale: Scale) -> np.random.Generator:
    """Draws over all users: which users are test users, and the order ids."""
    return _generator(seed, _USERS_STREAM, _scale_code(scale))


def block_generator(seed: int, scale: Scale, block: int) -> np.random.Generator:
    return _generator(seed, _BLOCK_STREAM, _scale_code(scale), block)


def defects_generator(seed: int, scale: Scale) -> np.random.Generator:
    return _generator(seed, _DEFECTS_STREAM, _scale_code(scale))


def _scale_code(scale: Scale) -> int:
    return scale.user_count
