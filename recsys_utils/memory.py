"""How much memory an ALS fit needs, and how much a process used (notebook 07).

* :func:`memory_model`: ``(users + items) * k * 8`` bytes of factors plus a cost
  per rating; :func:`max_ratings_fitting`, its inverse for MovieLens-shaped data.
* :func:`peak_rss_bytes`: the peak resident memory a process has reached, to
  measure the per-rating cost that the model needs (``benchmarks/bench_scaling.py``).

Nothing here needs Spark: the model describes NumPy's ALS and Spark's alike.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .synthetic import movielens_shape

__all__ = ["memory_model", "max_ratings_fitting", "peak_rss_bytes"]


def peak_rss_bytes(pid=None):
    """Peak resident memory (``VmHWM``) of a process so far, in bytes; ``None`` off Linux.

    Parameters
    ----------
    pid : int, optional; default this process
    """
    path = Path(f"/proc/{pid or 'self'}/status")
    try:
        for line in path.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def memory_model(n_users, n_items, n_ratings, n_factors, bytes_per_rating=24.0):
    """Bytes an ALS fit needs: ``(n_users + n_items) * n_factors * 8`` for the factors plus the ratings.

    The default 24 bytes per rating are a user index, an item index and a rating in
    64 bits each. Real solvers need more per rating for their working arrays: measure
    the constant (benchmarks/bench_scaling.py) and pass it as ``bytes_per_rating``.

    Returns
    -------
    float, bytes
    """
    return float((n_users + n_items) * n_factors * 8 + n_ratings * bytes_per_rating)


def max_ratings_fitting(memory_bytes, n_factors, bytes_per_rating=24.0, **shape):
    """Largest MovieLens-shaped ``n_ratings`` whose :func:`memory_model` fits in ``memory_bytes``.

    Users and items grow with the ratings as in :func:`movielens_shape` (keywords go to it).
    Found by bisection on a log scale; returns an int.
    """
    def need(n):
        return memory_model(*movielens_shape(n, **shape), n, n_factors, bytes_per_rating)

    lo, hi = 1000.0, 1000.0
    if need(lo) > memory_bytes:
        raise ValueError(f"{memory_bytes} bytes do not hold even 1000 ratings at n_factors={n_factors}")
    while need(hi) <= memory_bytes:
        lo, hi = hi, hi * 2
    for _ in range(100):
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if need(mid) <= memory_bytes else (lo, mid)
        if hi - lo < 1:
            break
    return int(lo)
