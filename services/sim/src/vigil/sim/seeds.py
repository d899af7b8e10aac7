"""Deterministic randomness: every simulated value is a pure function of (seed, keys, time).

Pure functions of time let a restarted simulator, or a phone re-sending yesterday, reproduce
exactly the values it published before, so ingest's natural-key de-duplication sees identical
rows instead of conflicting ones.
"""

from __future__ import annotations

import zlib

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def key_of(*keys: object) -> int:
    """A stable 32-bit integer for a tuple of keys (str/int), the same in every process."""
    return zlib.crc32("\x1f".join(str(k) for k in keys).encode())


def rng(seed: int, *keys: object) -> np.random.Generator:
    """A numpy generator seeded by ``seed`` and ``keys`` (e.g. profile name and day number)."""
    return np.random.default_rng([seed & 0xFFFFFFFF, key_of(*keys)])


def _splitmix(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def uniform(seed: int, stream: object, index: np.ndarray) -> np.ndarray:
    """Uniform [0, 1) values addressed by integer ``index`` (counter-based, vectorised)."""
    base = np.uint64((seed & 0xFFFFFFFF) << 32 | key_of(stream))
    with np.errstate(over="ignore"):
        x = _splitmix(np.asarray(index, dtype=np.int64).astype(np.uint64) * _GOLDEN ^ base)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def normal(seed: int, stream: object, index: np.ndarray) -> np.ndarray:
    """Standard normal values addressed by ``index`` (Box-Muller on two uniform streams)."""
    u1 = np.maximum(uniform(seed, f"{stream}/a", index), 1e-12)
    u2 = uniform(seed, f"{stream}/b", index)
    return np.asarray(np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2), dtype=np.float64)


def smooth_noise(seed: int, stream: object, t_s: np.ndarray, knot_s: float) -> np.ndarray:
    """Smooth standard-normal-ish noise: cosine interpolation between knots ``knot_s`` apart."""
    pos = np.asarray(t_s, dtype=np.float64) / knot_s
    k0 = np.floor(pos).astype(np.int64)
    frac = pos - k0
    w = (1.0 - np.cos(np.pi * frac)) / 2.0
    a = normal(seed, stream, k0)
    b = normal(seed, stream, k0 + 1)
    return a * (1.0 - w) + b * w
