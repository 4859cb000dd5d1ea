"""The package's shape: one concern per module, a public root, one check per kind, one score-matrix method."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import recsys_utils
from recsys_utils import (
    BiasBaseline,
    GlobalMean,
    ImplicitALS,
    ItemMean,
    MatrixFactorization,
    NotFittedError,
    UnknownIdWarning,
    UserMean,
    make_low_rank_ratings,
)
from recsys_utils.base import known_bias_prediction
from recsys_utils.checks import check_choice, check_fraction, check_int, check_number, check_rating_scale

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "recsys_utils"


# --- layout -------------------------------------------------------------------
def test_importing_the_package_root_imports_neither_tensorflow_nor_pyspark():
    code = ("import sys, recsys_utils, recsys_utils.features, recsys_utils.memory, recsys_utils.spark; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'pyspark') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_no_notebook_test_or_benchmark_imports_a_private_module():
    pattern = re.compile(r"recsys_utils\._")
    offenders = [str(p.relative_to(ROOT)) for folder in ("notebooks", "tests", "benchmarks")
                 for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".ipynb")
                 and p.name != Path(__file__).name and pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_no_module_is_oversized():
    """Every module stays readable in one sitting; the data layer and mf.py are long but cohesive."""
    cohesive = {"data.py": 800, "download.py": 600, "mf.py": 600}
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text(encoding="utf-8").splitlines())
             for p in PACKAGE.rglob("*.py")}
    too_long = {name: n for name, n in sizes.items() if n > cohesive.get(Path(name).name, 350)}
    assert too_long == {}


def test_the_root_exports_what_the_notebooks_use():
    for name in ("UnknownIdWarning", "NotFittedError", "tune_bias_baseline", "MatrixFactorization", "ImplicitALS",
                 "BiasBaseline", "course_split", "load_movielens", "make_movielens_like"):
        assert name in recsys_utils.__all__ and hasattr(recsys_utils, name), name


# --- one set of checks, one message style ---------------------------------------
@pytest.mark.parametrize("value", [0, -1, 2.0, True, "3", None])
def test_check_int_refuses(value):
    with pytest.raises(ValueError, match=r"^n_factors must be an integer >= 1, got "):
        check_int("n_factors", value)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, -0.1, "0.1", True, None])
def test_check_number_refuses_nan_infinities_negatives_and_non_numbers(value):
    with pytest.raises(ValueError, match=r"^reg must be a non-negative finite number, got "):
        check_number("reg", value)


def test_check_number_variants():
    check_number("lr", 1e-9, strict=True)
    check_number("mu", -3.0, minimum=-np.inf)
    with pytest.raises(ValueError, match="lr must be a positive finite number, got 0"):
        check_number("lr", 0, strict=True)
    with pytest.raises(ValueError, match="mu must be a finite number, got nan"):
        check_number("mu", np.nan, minimum=-np.inf)
    with pytest.raises(ValueError, match="x must be a finite number >= 2, got 1"):
        check_number("x", 1, minimum=2)


def test_check_fraction_choice_and_rating_scale():
    check_fraction("p", 0.0, allow_zero=True)
    for bad in (0.0, 1.0, -0.2, np.nan, "0.5"):
        with pytest.raises(ValueError, match=r"test_size must be a fraction in \(0, 1\)"):
            check_fraction("test_size", bad)
    with pytest.raises(ValueError, match="method must be one of 'als', 'sgd', got 'adam'"):
        check_choice("method", "adam", ("als", "sgd"))
    assert check_rating_scale((1, 5)) == (1.0, 5.0)
    for bad in ((5, 1), (1,), (1, np.inf), "15", (1, 1)):
        with pytest.raises(ValueError, match="rating_scale must be"):
            check_rating_scale(bad)


def test_bias_baseline_refuses_a_nan_penalty():
    ratings = make_low_rank_ratings(50, 40, random_state=0).ratings
    with pytest.raises(ValueError, match="reg_user must be a non-negative finite number, got nan"):
        BiasBaseline(reg_user=float("nan")).fit(ratings)
    with pytest.raises(ValueError, match="n_epochs must be an integer >= 1, got 0"):
        BiasBaseline(n_epochs=0).fit(ratings)


# --- one fallback, one score matrix ----------------------------------------------
def test_known_bias_prediction_counts_only_known_biases():
    bu, bi = np.array([1.0, 2.0]), np.array([10.0, 20.0, 30.0])
    got = known_bias_prediction(3.0, bu, bi, np.array([0, -1, 1, -1]), np.array([2, 1, -1, -1]))
    np.testing.assert_array_equal(got, [3 + 1 + 30, 3 + 20, 3 + 2, 3])


@pytest.fixture(scope="module")
def small():
    return make_low_rank_ratings(60, 50, n_factors=3, density=0.3, random_state=1).ratings


@pytest.mark.parametrize("make", [GlobalMean, UserMean, ItemMean, lambda: BiasBaseline(2, 2),
                                  lambda: MatrixFactorization(n_factors=3, n_epochs=3, random_state=0)],
                         ids=["global", "user", "item", "bias", "mf"])
def test_every_rating_model_scores_every_item_as_it_predicts(small, make):
    model = make().fit(small)
    S = model.score_matrix()  # (n_users, n_items), unclipped
    assert S.shape == (model.ids_.n_users, model.ids_.n_items)
    users, items = np.meshgrid(model.ids_.users, model.ids_.items, indexing="ij")
    lo, hi = model.rating_scale_
    np.testing.assert_allclose(np.clip(S, lo, hi).ravel(), model.predict(users.ravel(), items.ravel()), atol=1e-12)
    np.testing.assert_array_equal(model.score_matrix([3, 0]), S[[3, 0]])
    with pytest.raises(ValueError, match="user index 60 is outside 0..59"):
        model.score_matrix([60])
    with pytest.raises(NotFittedError, match="call fit"):
        make().score_matrix()


def test_implicit_als_score_matrix_checks_users_too(small):
    model = ImplicitALS(n_factors=4, n_epochs=2, random_state=0).fit(small)
    assert model.score_matrix().shape == (60, 50)
    with pytest.raises(ValueError, match="user index -1 is outside"):
        model.score_matrix([-1])


def test_unknown_ids_fall_back_to_known_biases_in_every_biased_model(small):
    mf = MatrixFactorization(n_factors=3, n_epochs=2, random_state=0)
    for model in (BiasBaseline(2, 2).fit(small), mf.fit(small)):
        with pytest.warns(UnknownIdWarning):
            got = model.predict([0, 999, 999], [999, 0, 999])
        mu, bu, bi = model.global_mean_, model.user_bias_, model.item_bias_
        np.testing.assert_allclose(got, np.clip([mu + bu[0], mu + bi[0], mu], *model.rating_scale_))


# --- MatrixFactorization.save / load ---------------------------------------------
def test_save_and_load_agree_on_the_path_and_the_predictions(small, tmp_path):
    model = MatrixFactorization(n_factors=3, n_epochs=2, random_state=0).fit(small)
    written = model.save(tmp_path / "model")
    assert written == tmp_path / "model.npz" and written.exists()
    for path in (tmp_path / "model", written, str(written)):
        again = MatrixFactorization.load(path)
        np.testing.assert_array_equal(again.predict(small.user_id, small.item_id),
                                      model.predict(small.user_id, small.item_id))
    with pytest.raises(FileNotFoundError, match="no saved model at"):
        MatrixFactorization.load(tmp_path / "nothing")


def _tampered(tmp_path, model, **changes):
    path = model.save(tmp_path / "good")
    with np.load(path) as z:
        arrays = dict(z)
    arrays.update(changes)
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    return bad


def test_load_refuses_an_inconsistent_file(small, tmp_path):
    model = MatrixFactorization(n_factors=3, n_epochs=2, random_state=0).fit(small)
    cases = {
        "rating_scale": (dict(rating_scale=np.array([5.0, 1.0])), "rating_scale must be"),
        "user_factors": (dict(user_factors=np.zeros((59, 3))), r"user_factors has shape \(59, 3\)"),
        "item_bias": (dict(item_bias=np.full(50, np.nan)), "item_bias has shape"),
        "global_mean": (dict(global_mean=np.array(99.0)), "global_mean 99.0 lies outside rating_scale"),
    }
    for change, message in cases.values():
        with pytest.raises(ValueError, match=message):
            MatrixFactorization.load(_tampered(tmp_path, model, **change))
    params = '{"n_factors": 0}'
    with pytest.raises(ValueError, match="not a valid saved MatrixFactorization"):
        MatrixFactorization.load(_tampered(tmp_path, model, params=np.array(params)))
