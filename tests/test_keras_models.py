"""Keras model builders: values on tiny inputs, equivalences, persistence, argument checks."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from recsys_utils import keras_models as km
from recsys_utils.encoding import IdMap
from recsys_utils.mf import objective

keras = km.keras

N_USERS, N_ITEMS = 5, 7


def _set_random_weights(model, seed=0):
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.5, w.shape).astype("float32") for w in model.get_weights()])


def _pairs(n=11, seed=1):
    rng = np.random.default_rng(seed)
    return {"user": rng.integers(0, N_USERS, n).astype("int32"), "item": rng.integers(0, N_ITEMS, n).astype("int32")}


def _relu(x):
    return np.maximum(x, 0.0)


# --------------------------------------------------------------------------- values
def test_one_hot_times_dense_weights_equals_embedding_lookup():
    emb = keras.layers.Embedding(N_USERS, 3, embeddings_initializer=keras.initializers.RandomNormal(seed=3))
    idx = np.array([0, 4, 2, 2], dtype="int32")
    looked_up = np.asarray(emb(idx))  # (4, 3)
    W = emb.get_weights()[0]  # (n_users, 3)
    one_hot = np.eye(N_USERS)[idx]  # (4, n_users)
    np.testing.assert_allclose(one_hot @ W, looked_up, rtol=1e-6)
    dense = keras.layers.Dense(3, use_bias=False)
    dense.build((None, N_USERS))
    dense.set_weights([W])
    np.testing.assert_allclose(np.asarray(dense(one_hot.astype("float32"))), looked_up, rtol=1e-6)


def test_mf_output_is_dot_plus_biases_plus_mean():
    model = km.build_mf_model(N_USERS, N_ITEMS, n_factors=4, reg=0.1, global_mean=3.25, random_state=0)
    _set_random_weights(model)
    x = _pairs()
    w = km.mf_weights(model)
    u, i = x["user"], x["item"]
    expected = 3.25 + w["bu"][u] + w["bi"][i] + np.sum(w["P"][u] * w["Q"][i], axis=1)
    out = model.predict(x, verbose=0)
    assert out.shape == (11, 1)
    np.testing.assert_allclose(out[:, 0], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(km.predict_ratings(model, x), expected, rtol=1e-5, atol=1e-6)


def test_mf_without_bias_is_plain_dot():
    model = km.build_mf_model(N_USERS, N_ITEMS, n_factors=2, use_bias=False, random_state=0)
    _set_random_weights(model)
    w = km.mf_weights(model)
    x = _pairs()
    assert not w["bu"].any() and len(model.get_weights()) == 2
    np.testing.assert_allclose(km.predict_ratings(model, x), np.sum(w["P"][x["user"]] * w["Q"][x["item"]], axis=1),
                               rtol=1e-5, atol=1e-6)


def test_per_rating_loss_equals_numpy_objective():
    """One full batch: Keras loss = mean(e^2) + reg mean(|p_u|^2 + |q_i|^2) + ... = 2 J / n of recsys_utils.mf."""
    reg, mu = 0.3, 3.0
    model = km.build_mf_model(N_USERS, N_ITEMS, n_factors=3, reg=reg, global_mean=mu, random_state=0)
    _set_random_weights(model)
    x = _pairs(n=20)
    r = np.random.default_rng(2).integers(1, 6, 20).astype(float)
    loss = model.evaluate(x, r, batch_size=20, verbose=0, return_dict=True)["loss"]
    w = km.mf_weights(model)
    J = objective(x["user"], x["item"], r, w["P"], w["Q"], w["bu"], w["bi"], mu, reg)
    assert loss == pytest.approx(2 * J / 20, rel=1e-5)


def test_weights_mode_penalizes_whole_tables():
    reg = 0.2
    model = km.build_mf_model(N_USERS, N_ITEMS, n_factors=3, reg=reg, reg_mode="weights", random_state=0)
    _set_random_weights(model)
    x = _pairs(n=6)
    r = np.full(6, 3.0)
    loss = model.evaluate(x, r, batch_size=6, verbose=0, return_dict=True)["loss"]
    pred = km.predict_ratings(model, x)
    table_penalty = reg * sum(np.sum(w**2) for w in model.get_weights())
    assert loss == pytest.approx(np.mean((r - pred) ** 2) + table_penalty, rel=1e-5)


def test_deep_model_article_architecture_and_forward_pass():
    model = km.build_deep_model(N_USERS, N_ITEMS, n_factors=8, random_state=0)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    drops = [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    assert [d.units for d in dense] == [128, 32, 8, 1] and drops == [0.2, 0.5, 0.5, 0.5]
    assert dense[-1].activation.__name__ == "linear" and model.loss == "mse"
    _set_random_weights(model)
    x = _pairs()
    U = model.get_layer("user_embedding").get_weights()[0]
    M = model.get_layer("item_embedding").get_weights()[0]
    h = np.concatenate([U[x["user"]], M[x["item"]]], axis=1)  # (n, 2k); dropout is off at predict time
    for layer in dense[:-1]:
        W, b = layer.get_weights()
        h = _relu(h @ W + b)
    W, b = dense[-1].get_weights()
    out = model.predict(x, verbose=0)
    assert out.shape == (11, 1)
    np.testing.assert_allclose(out[:, 0], (h @ W + b)[:, 0], rtol=1e-4, atol=1e-5)


def test_softmax_variant_probabilities_expected_and_argmax():
    levels = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    model = km.build_deep_model(N_USERS, N_ITEMS, n_factors=4, hidden=(6,), dropout=(0.1, 0.1), output="softmax",
                                n_classes=5, random_state=0)
    _set_random_weights(model)
    x = _pairs()
    probs = model.predict(x, verbose=0)
    assert probs.shape == (11, 5)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(km.predict_ratings(model, x, levels=levels), probs @ levels, rtol=1e-5)
    np.testing.assert_array_equal(km.predict_ratings(model, x, levels=levels, how="argmax"),
                                  levels[probs.argmax(axis=1)])
    np.testing.assert_array_equal(km.to_classes([1.0, 5.0, 3.0], levels), [0, 4, 2])


def test_side_features_from_a_dataset_and_their_inputs():
    ds = SimpleNamespace(
        items=pd.DataFrame({"item_id": [10, 20, 30], "title": ["a", "b", "c"],
                            "year": pd.array([1990, None, 2000], "Int64"),
                            "genres": ["Comedy|Drama", "Drama", "(no genres listed)"]}),
        users=pd.DataFrame({"user_id": [1, 2], "age": [20, 40], "gender": ["M", "F"], "occupation": ["x", "y"],
                            "zip": ["55455", "T8H1N"]}),
    )
    ratings = pd.DataFrame({"user_id": [1, 2, 2], "item_id": [10, 20, 30], "rating": [4.0, 3.0, 5.0]})
    ids = IdMap.from_ratings(ratings)
    feats = km.side_features(ds, ids, dim=2)
    assert list(feats.specs) == ["genres", "year", "age", "gender", "occupation", "zip_region"]
    assert feats.specs["genres"] == km.numeric(3) and feats.specs["zip_region"] == km.categorical(2, 2)
    # genres sorted: (no genres listed), Comedy, Drama
    np.testing.assert_array_equal(feats.item_tables["genres"], [[0, 1, 1], [0, 0, 1], [1, 0, 0]])
    np.testing.assert_allclose(feats.item_tables["year"][:, 0], [-1, 0, 1])  # missing year -> the mean
    np.testing.assert_array_equal(feats.user_tables["zip_region"], [0, 1])  # '5' < 'other'
    inputs = km.make_inputs(ratings, ids, feats)
    np.testing.assert_array_equal(inputs["gender"], [1, 0, 0])  # F=0, M=1
    model = km.build_deep_model(ids.n_users, ids.n_items, n_factors=3, hidden=(4,), dropout=(0, 0),
                                side_features=feats.specs, random_state=0)
    # from a table, the features are looked up per row: the same numbers as predict on make_inputs
    np.testing.assert_allclose(km.predict_ratings(model, ratings, ids, feats),
                               model.predict(inputs, verbose=0)[:, 0], rtol=1e-5, atol=1e-6)
    hybrid = km.build_hybrid_model(ids.n_users, ids.n_items, n_factors=2, n_mlp_factors=3,
                                   side_features=feats.subset(["year"]).specs, global_mean=4.0, random_state=0)
    # the MLP output starts at zero, so an untrained hybrid model is plain MF
    w = km.mf_weights(hybrid)
    x = km.make_inputs(ratings, ids, feats.subset(["year"]))
    np.testing.assert_allclose(km.predict_ratings(hybrid, x),
                               4.0 + np.sum(w["P"][x["user"]] * w["Q"][x["item"]], axis=1), rtol=1e-5)


def test_predict_table_with_unknown_ids_uses_fallback():
    train = pd.DataFrame({"user_id": [1, 2, 3], "item_id": [10, 20, 10], "rating": [4.0, 3.0, 5.0]})
    ids = IdMap.from_ratings(train)
    mf = km.build_mf_model(ids.n_users, ids.n_items, n_factors=2, global_mean=4.0, random_state=0)
    _set_random_weights(mf)
    w = km.mf_weights(mf)
    table = pd.DataFrame({"user_id": [1, 9, 2], "item_id": [99, 10, 20]})
    pred = km.predict_ratings(mf, table, ids, clip=(1, 5))
    assert pred[0] == pytest.approx(np.clip(4.0 + w["bu"][0], 1, 5), rel=1e-6)  # known user, unknown item
    assert pred[1] == pytest.approx(np.clip(4.0 + w["bi"][0], 1, 5), rel=1e-6)
    deep = km.build_deep_model(ids.n_users, ids.n_items, n_factors=2, hidden=(2,), dropout=(0, 0), random_state=0)
    with pytest.raises(ValueError, match="unknown to ids: pass fallback="):
        km.predict_ratings(deep, table, ids)
    assert km.predict_ratings(deep, table, ids, fallback=3.5)[:2].tolist() == [3.5, 3.5]


# --------------------------------------------------------------------------- reproducibility, persistence
def _tiny_fit(seed):
    x, r = _pairs(n=60, seed=4), np.random.default_rng(5).integers(1, 6, 60).astype(float)
    model = km.build_deep_model(N_USERS, N_ITEMS, n_factors=4, hidden=(5,), dropout=(0.3, 0.3), random_state=seed)
    hist = km.fit_model(model, x, r, n_epochs=2, batch_size=16, random_state=seed)
    return model, hist


def test_seeded_training_is_reproducible():
    (m1, h1), (m2, h2) = _tiny_fit(7), _tiny_fit(7)
    for a, b in zip(m1.get_weights(), m2.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(h1["loss"], h2["loss"])
    m3, _ = _tiny_fit(8)
    assert not np.array_equal(m1.get_weights()[0], m3.get_weights()[0])


def test_early_stopping_restores_best_weights_and_logs_validation():
    x, r = _pairs(n=40, seed=6), np.random.default_rng(7).integers(1, 6, 40).astype(float)
    model = km.build_mf_model(N_USERS, N_ITEMS, n_factors=3, global_mean=3.0, learning_rate=0.5, random_state=0)
    vx, vr = _pairs(n=10, seed=8), np.full(10, 3.0)
    hist = km.fit_model(model, x, r, validation_data=(vx, vr), n_epochs=30, batch_size=40, patience=2, random_state=0)
    assert {"loss", "rmse", "val_loss", "val_rmse"} <= set(hist.columns)
    best = hist["val_rmse"].min()
    assert np.sqrt(np.mean((km.predict_ratings(model, vx) - vr) ** 2)) == pytest.approx(best, rel=1e-4)


@pytest.mark.parametrize("kind", ["mf", "deep_side"])
def test_saved_keras_model_reloads_with_identical_predictions(tmp_path, kind):
    if kind == "mf":
        model = km.build_mf_model(N_USERS, N_ITEMS, n_factors=3, reg=0.05, global_mean=3.5, random_state=0)
        x = _pairs()
    else:
        side = {"genre": km.numeric(2), "occupation": km.categorical(3, 2)}
        model = km.build_deep_model(N_USERS, N_ITEMS, n_factors=3, hidden=(4,), dropout=(0.2, 0.2), side_features=side,
                                    random_state=0)
        x = {**_pairs(), "genre": np.ones((11, 2), "float32"), "occupation": np.arange(11, dtype="int32") % 3}
    _set_random_weights(model)
    path = tmp_path / "model.keras"
    model.save(path)
    again = keras.saving.load_model(path)
    np.testing.assert_array_equal(km.predict_ratings(again, x), km.predict_ratings(model, x))
    if kind == "mf":
        assert km.mf_weights(again)["mu"] == 3.5


# --------------------------------------------------------------------------- invalid arguments
@pytest.mark.parametrize("kwargs, message", [
    ({"n_factors": 0}, r"n_factors must be an integer >= 1, got 0"),
    ({"n_factors": -3}, r"n_factors must be an integer >= 1"),
    ({"n_factors": 2.5}, r"n_factors must be an integer >= 1"),
    ({"dropout": (0.2, 1.0, 0.5, 0.5)}, r"every dropout rate \(in .*\) must be a fraction in \[0, 1\), got 1.0"),
    ({"dropout": (-0.1, 0.5, 0.5, 0.5)}, r"every dropout rate \(in .*\) must be a fraction in \[0, 1\), got -0.1"),
    ({"dropout": (0.2, 0.5)}, r"dropout needs one rate before each of the 3 hidden layers .* got 2"),
    ({"hidden": (128, 0, 8)}, r"every hidden layer size must be an integer >= 1"),
    ({"output": "ordinal"}, r"output must be one of 'regression', 'softmax', got 'ordinal'"),
    ({"output": "softmax"}, r"n_classes \(for output='softmax'\) must be an integer >= 2, got None"),
    ({"side_features": {"age": {"kind": "text"}}}, r"side feature 'age': spec must come from categorical"),
    ({"side_features": {"user": km.numeric(1)}}, r"side feature name 'user' is reserved"),
    ({"learning_rate": 0}, r"learning_rate must be a positive finite number, got 0"),
])
def test_deep_model_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        km.build_deep_model(N_USERS, N_ITEMS, **kwargs)


@pytest.mark.parametrize("args, kwargs, message", [
    ((0, 5), {}, r"n_users must be an integer >= 1, got 0"),
    ((5, 5), {"n_factors": 0}, r"n_factors must be an integer >= 1, got 0"),
    ((5, 5), {"reg": -1.0}, r"reg must be a non-negative finite number, got -1.0"),
    ((5, 5), {"reg": float("nan")}, r"reg must be a non-negative finite number, got nan"),
    ((5, 5), {"reg_mode": "l1"}, r"reg_mode must be one of 'per_rating', 'weights', got 'l1'"),
])
def test_mf_model_rejects_bad_arguments(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        km.build_mf_model(*args, **kwargs)


def test_bad_inputs_are_rejected_before_training():
    model = km.build_mf_model(N_USERS, N_ITEMS, n_factors=2, random_state=0)
    ok = _pairs(n=4)
    r = np.ones(4)
    cases = [
        ({"user": ok["user"], "item": ok["item"][:3]}, r, r"arrays must all have one row per rating, got lengths"),
        (ok, np.ones(5), r"got 4 input rows but 5 targets"),
        ({"user": np.array([0, 1, 2, N_USERS]), "item": ok["item"]}, r,
         rf"\['user'\] has index {N_USERS} outside the embedding table of {N_USERS} rows"),
        ({"user": np.array([0, -1, 2, 3]), "item": ok["item"]}, r, r"\['user'\] has index -1 outside"),
        ({"user": ok["user"]}, r, r"must have exactly the keys \['item', 'user'\]: missing \['item'\]"),
        ({**ok, "age": np.ones(4)}, r, r"unexpected \['age'\]"),
        ({"user": ok["user"].astype(float), "item": ok["item"]}, r, r"must hold integer indices"),
        (ok, np.array([1.0, np.nan, 2.0, 3.0]), r"targets contain NaN"),
    ]
    for x, y, message in cases:
        with pytest.raises(ValueError, match=message):
            km.fit_model(model, x, y, n_epochs=1)
    with pytest.raises(ValueError, match="epochs must be an integer >= 1, got 0"):
        km.fit_model(model, ok, r, n_epochs=0)
    with pytest.raises(ValueError, match=r"validation inputs\['item'\] has index 99"):
        km.fit_model(model, ok, r, validation_data=({"user": ok["user"], "item": np.array([0, 1, 2, 99])}, r))


def test_helpers_reject_bad_input():
    ratings = pd.DataFrame({"user_id": [1, 2], "item_id": [10, 20], "rating": [4.0, 3.5]})
    ids = IdMap.from_ratings(ratings)
    with pytest.raises(ValueError, match="item_ids are not in the mapping"):
        km.make_inputs(pd.DataFrame({"user_id": [1], "item_id": [30]}), ids)
    with pytest.raises(ValueError, match=r"rating 3.7 is not one of the levels"):
        km.to_classes([3.7], [3.0, 3.5, 4.0])
    side = {"genre": km.numeric(2)}
    model = km.build_deep_model(2, 2, n_factors=2, hidden=(2,), dropout=(0, 0), side_features=side, random_state=0)
    with pytest.raises(ValueError, match=r"\['genre'\] must have shape \(n, 2\), got \(2, 3\)"):
        km.predict_ratings(model, {"user": [0, 1], "item": [0, 1], "genre": np.ones((2, 3))})
    softmax = km.build_deep_model(2, 2, n_factors=2, hidden=(2,), dropout=(0, 0), output="softmax", n_classes=3,
                                  random_state=0)
    with pytest.raises(ValueError, match=r"needs levels="):
        km.predict_ratings(softmax, {"user": [0, 1], "item": [0, 1]})
    with pytest.raises(ValueError, match="has no MF layers"):
        km.mf_weights(softmax)
    with pytest.raises(ValueError, match=r"unknown side feature\(s\) \['zip'\]"):
        km.SideFeatures({"age": km.numeric(1)}).subset(["zip"])
