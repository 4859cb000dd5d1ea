"""Helpers for the recommender-systems course: data, splits, metrics, models.

The package root gives what the notebooks use most; importing it never imports
TensorFlow or pyspark (``recsys_utils.keras_models`` and ``recsys_utils.spark`` do,
when a notebook asks for them).

Modules, one concern each
-------------------------
``data`` and ``download`` (MovieLens loader) · ``encoding`` (ids -> indices) · ``splits`` ·
``metrics`` (RMSE, MAE) · ``checks`` (argument checks) · ``base`` (the estimator shape, unknown-id
fallback, score matrices) · ``baselines`` · ``mf`` (NumPy MF) · ``implicit`` (weighted ALS) ·
``neighbors`` (item-kNN, EASE) · ``bayes`` (Bayesian MF by Gibbs sampling) · ``fm`` and ``fm_gibbs``
(Bayesian factorization machine with implicit features) · ``ranking`` (top-N, ranking metrics) ·
``features`` (side-feature tables) · ``keras_models`` (Keras 3 models) · ``spark`` (Spark ALS) ·
``synthetic`` (generated data) · ``memory`` (memory model, peak RSS) · ``course`` (the runner).
"""
from .base import NotFittedError, UnknownIdWarning
from .baselines import BiasBaseline, GlobalMean, ItemMean, UserMean, tune_bias_baseline
from .bayes import BayesianMF
from .data import DatasetError, MovieLens, load_movielens
from .encoding import IdMap
from .fm import BayesianFM
from .implicit import ImplicitALS
from .metrics import mae, rmse
from .mf import MatrixFactorization
from .neighbors import EASE, ItemKNN
from .splits import course_split, per_user_split, random_split, temporal_split
from .synthetic import make_low_rank_ratings, make_movielens_like

__all__ = [
    "NotFittedError", "UnknownIdWarning",
    "BiasBaseline", "GlobalMean", "ItemMean", "UserMean", "tune_bias_baseline",
    "DatasetError", "MovieLens", "load_movielens", "IdMap", "mae", "rmse",
    "BayesianMF", "BayesianFM", "EASE", "ImplicitALS", "ItemKNN", "MatrixFactorization",
    "course_split", "per_user_split", "random_split", "temporal_split",
    "make_low_rank_ratings", "make_movielens_like",
]
__version__ = "0.1.0"
