"""Side features (辅助特征) for the Keras models: per-user and per-movie tables, pandas only.

A side feature is *categorical* (integer codes, embedded by the model: occupation,
gender ...) or *numeric* (floats per rating: genres multi-hot, standardized year,
age ...). :func:`categorical` and :func:`numeric` make the spec a model builder
needs; :func:`side_features` builds every table a MovieLens data set offers,
aligned with an :class:`~recsys_utils.encoding.IdMap`. Nothing here imports
TensorFlow, so the tables can be built and inspected without it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .checks import check_int
from .encoding import IdMap

__all__ = ["categorical", "numeric", "check_side_specs", "SideFeatures", "side_features"]


def categorical(n_values, dim=8):
    """Spec of a categorical side feature: integer codes in ``[0, n_values)``, embedded in ``dim``."""
    check_int("n_values", n_values)
    check_int("dim", dim)
    return {"kind": "categorical", "n_values": int(n_values), "dim": int(dim)}


def numeric(width=1):
    """Spec of a numeric side feature: ``width`` floats per rating (a multi-hot vector, a standardized number)."""
    check_int("width", width)
    return {"kind": "numeric", "width": int(width)}


def check_side_specs(side):
    """Validate a ``side_features`` dict (name -> spec); return a copy ({} for None)."""
    if side is None:
        return {}
    if not isinstance(side, dict):
        raise ValueError(f"side_features must be a dict name -> categorical(...) / numeric(...), "
                         f"got {type(side).__name__}")
    for name, spec in side.items():
        if name in ("user", "item"):
            raise ValueError(f"side feature name {name!r} is reserved for the ids: rename it")
        kind = spec.get("kind") if isinstance(spec, dict) else None
        if kind == "categorical":
            categorical(spec.get("n_values"), spec.get("dim", 8))
        elif kind == "numeric":
            numeric(spec.get("width", 1))
        else:
            raise ValueError(f"side feature {name!r}: spec must come from categorical(...) or numeric(...), "
                             f"got {spec!r}")
    return dict(side)


@dataclass
class SideFeatures:
    """Per-user and per-item feature tables for a data set, aligned with an IdMap.

    Attributes
    ----------
    specs : dict name -> spec, to pass as ``side_features=`` to the builders
    user_tables : dict name -> array with ``n_users`` rows (indexed by user index)
    item_tables : dict name -> array with ``n_items`` rows (indexed by item index)
    described : list of str, one line per feature (what it is, how it was encoded)
    """

    specs: dict
    user_tables: dict = field(default_factory=dict)
    item_tables: dict = field(default_factory=dict)
    described: list = field(default_factory=list)

    def lookup(self, u, i):
        """Feature arrays for rating rows with user indices ``u`` and item indices ``i`` (shape (n,) each)."""
        out = {name: table[u] for name, table in self.user_tables.items()}
        out.update({name: table[i] for name, table in self.item_tables.items()})
        return out

    def subset(self, names):
        """The same features restricted to ``names`` (order kept)."""
        missing = [n for n in names if n not in self.specs]
        if missing:
            raise ValueError(f"unknown side feature(s) {missing}: choose from {list(self.specs)}")
        keep = [n for n in self.specs if n in names]
        return SideFeatures({n: self.specs[n] for n in keep},
                            {n: t for n, t in self.user_tables.items() if n in keep},
                            {n: t for n, t in self.item_tables.items() if n in keep},
                            [d for d in self.described if d.split(":")[0] in keep])


def _standardize(x):
    x = np.asarray(x, dtype=float)
    mean = np.nanmean(x)
    std = np.nanstd(x) or 1.0
    return np.nan_to_num((x - mean) / std, nan=0.0).astype("float32")[:, None]  # (n, 1); missing -> the mean


def _codes(values):
    codes, uniques = pd.factorize(pd.Series(values).astype(str), sort=True)
    return codes.astype("int32"), len(uniques)


def side_features(ds, ids: IdMap, dim=8) -> SideFeatures:
    """Movie genres and year for every data set; user age, gender, occupation, zip region where known.

    Parameters
    ----------
    ds : :class:`~recsys_utils.data.MovieLens`
    ids : IdMap of the training ratings (rows of the tables follow its indices)
    dim : int, embedding size of each categorical feature

    Returns
    -------
    SideFeatures
    """
    items = ds.items.set_index("item_id").reindex(ids.items)
    genres = items["genres"].fillna("").astype(str).str.get_dummies(sep="|")  # (n_items, n_genres)
    feats = SideFeatures({})
    feats.specs["genres"] = numeric(genres.shape[1])
    feats.item_tables["genres"] = genres.to_numpy("float32")
    feats.described.append(f"genres: movie, multi-hot over {genres.shape[1]} genres")
    feats.specs["year"] = numeric(1)
    feats.item_tables["year"] = _standardize(items["year"].astype("float64"))
    feats.described.append("year: movie, release year standardized (missing -> mean)")
    if ds.users is not None:
        users = ds.users.set_index("user_id").reindex(ids.users)
        feats.specs["age"] = numeric(1)
        feats.user_tables["age"] = _standardize(users["age"])
        feats.described.append("age: user, standardized")
        for name, values, what in (
            ("gender", users["gender"], "user, categorical"),
            ("occupation", users["occupation"], "user, categorical"),
            ("zip_region", users["zip"].astype(str).str[0].where(lambda s: s.str.isdigit(), "other"),
             "user, first digit of the zip code (non-US codes -> 'other'), categorical"),
        ):
            codes, n = _codes(values)
            feats.specs[name] = categorical(n, dim)
            feats.user_tables[name] = codes
            feats.described.append(f"{name}: {what} with {n} values")
    return feats
