"""Helpers for the recommender-systems course: data, splits, metrics, models."""
from .baselines import BiasBaseline, GlobalMean, ItemMean, UserMean
from .data import DatasetError, MovieLens, load_movielens
from .encoding import IdMap
from .metrics import mae, rmse
from .mf import MatrixFactorization
from .splits import course_split, per_user_split, random_split, temporal_split
from .synthetic import make_low_rank_ratings

__all__ = [
    "BiasBaseline", "GlobalMean", "ItemMean", "UserMean",
    "DatasetError", "MatrixFactorization", "MovieLens", "load_movielens", "IdMap", "mae", "rmse",
    "course_split", "per_user_split", "random_split", "temporal_split", "make_low_rank_ratings",
]
__version__ = "0.1.0"
