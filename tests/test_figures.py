"""recsys_utils.figures: every figure returns the values it drew, and those values are checked here."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from matplotlib.figure import Figure

from recsys_utils import figures
from recsys_utils.ranking import ndcg_at_k

ROOT = Path(__file__).resolve().parent.parent


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts]


def test_importing_figures_imports_neither_tensorflow_nor_pyspark_nor_pyplot():
    code = ("import sys, recsys_utils.figures; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'pyspark', 'matplotlib.pyplot') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_fit_block_recovers_a_rank_two_matrix_from_its_known_cells():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(6, 2)) @ rng.normal(size=(2, 8))
    R = truth.copy()
    R[[0, 2, 5], [3, 7, 1]] = np.nan  # three unknown cells
    P, Q = figures.fit_block(R, d=2, reg=1e-6, n_iter=300, seed=1)
    assert P.shape == (6, 2) and Q.shape == (8, 2)
    np.testing.assert_allclose(P @ Q.T, truth, atol=1e-3)  # the unknown cells are predicted too
    P2, Q2 = figures.fit_block(R, d=2, reg=1e-6, n_iter=300, seed=1)
    np.testing.assert_array_equal(P, P2)


def test_factorization_figure_draws_p_times_q_transpose_and_the_shapes():
    R = np.array([[5, 4, np.nan], [1, np.nan, 2.0]])
    P, Q = np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([[1.0, 2.0], [2.0, 1.0], [0.0, 1.0]])
    fig, R_hat = figures.factorization_figure(R, P, Q, user=1)
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    np.testing.assert_allclose(R_hat, [[5, 4, 2], [-1.5, 0, -1]])
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["R: ratings, m×n = 2×3", "P: m×d = 2×2", "Qᵀ: d×n = 2×3", "P·Qᵀ: m×n = 2×3"]
    assert _texts(fig).count("?") == 2 and "-1.5" in _texts(fig)
    outlined = [p for ax in fig.axes for p in ax.patches]
    assert len(outlined) == 3 and all(p.get_y() == 0.5 for p in outlined)  # row 1 in R, P and P·Qᵀ


def test_one_hot_times_w_is_the_row_of_w():
    W = np.arange(12.0).reshape(4, 3) / 10
    fig, product = figures.one_hot_lookup_figure(W, 2)
    np.testing.assert_array_equal(product, W[[2]])
    assert fig.axes[2].get_title() == "one-hot · W: 1×3 = row 2 of W"
    assert [t.get_text() for t in fig.axes[0].texts] == ["0", "0", "1", "0"]
    assert [t.get_text() for t in fig.axes[2].texts] == ["0.60", "0.70", "0.80"]
    _, small = figures.one_hot_lookup_figure(W / 100, 1, fmt="{:.3f}")
    np.testing.assert_array_equal(small, W[[1]] / 100)


def test_dropout_scaling_keeps_the_expectation_and_inference_needs_no_rescale():
    x = np.array([0.8, 1.5, 0.3, 2.0, 1.1, 0.6])
    fig, v = figures.dropout_figure(x, p=0.5, seed=0, n_masks=20_000)
    assert v["scale"] == 2.0
    kept = v["mask"]
    assert 0 < kept.sum() < x.size
    np.testing.assert_array_equal(v["train_output"][kept], 2 * x[kept])
    np.testing.assert_array_equal(v["train_output"][~kept], 0)
    # E[x · mask / (1 - p)] = x: the sampling error of 20,000 masks is x/sqrt(20,000) ≈ 0.007 x
    np.testing.assert_allclose(v["mean_output"], x, rtol=0.03)
    np.testing.assert_array_equal(v["inference_output"], x)
    _, again = figures.dropout_figure(x, p=0.5, seed=0, n_masks=20_000)
    np.testing.assert_array_equal(again["mask"], v["mask"])
    _, v8 = figures.dropout_figure(x, p=0.8, seed=0, n_masks=20_000)
    assert v8["scale"] == pytest.approx(5.0)
    np.testing.assert_allclose(v8["mean_output"], x, rtol=0.06)


def test_confidence_is_one_plus_alpha_where_watched():
    watched = np.array([[1, 0, 0], [0, 1, 1]])
    fig, C = figures.confidence_figure(watched, alpha=5.0, col_labels=["a", "b", "c"])
    np.testing.assert_array_equal(C, [[6, 1, 1], [1, 6, 6]])
    assert [t.get_text() for t in fig.axes[1].texts] == ["6", "1", "1", "1", "6", "6"]


@pytest.mark.parametrize("hits, n_relevant", [([1, 0, 1, 0, 0, 1, 0, 0, 0, 0], 4),
                                              ([0, 0, 0, 1, 0, 0, 0, 0, 0, 1], 2),
                                              ([1] * 10, 12)])
def test_ndcg_figure_agrees_with_the_course_metric(hits, n_relevant):
    fig, v = figures.ndcg_figure(hits, n_relevant)
    # the same list through recsys_utils.ranking: items 0..9 recommended, relevant = the hits plus the
    # relevant items the list missed (indices 10, 11, ...)
    hit_items = list(np.flatnonzero(hits))
    missed = list(range(10, 10 + n_relevant - len(hit_items)))
    relevant = sp.csr_matrix((np.ones(n_relevant), ([0] * n_relevant, hit_items + missed)), shape=(1, 30))
    expected = ndcg_at_k(np.arange(10)[None, :], relevant, k=10)
    assert v["ndcg"] == pytest.approx(expected, abs=1e-12)
    assert v["dcg"] == pytest.approx(sum(1 / np.log2(j + 2) for j in hit_items))
    assert v["idcg"] == pytest.approx(sum(1 / np.log2(j + 2) for j in range(min(10, n_relevant))))
    assert f"= {v['ndcg']:.3f}" in fig.axes[0].get_title()
    assert _texts(fig).count("miss") == 10 - len(hit_items)


def test_ndcg_figure_worked_example_by_hand():
    _, v = figures.ndcg_figure([1, 0, 1, 0, 0, 1, 0, 0, 0, 0], 4)
    dcg = 1 + 1 / np.log2(4) + 1 / np.log2(7)              # hits at ranks 1, 3, 6
    idcg = 1 + 1 / np.log2(3) + 1 / np.log2(4) + 1 / np.log2(5)
    assert v["ndcg"] == pytest.approx(dcg / idcg) and v["ndcg"] == pytest.approx(0.7246, abs=1e-4)


def test_block_counts_and_partition_figure():
    rng = np.random.default_rng(3)
    u, i = rng.integers(0, 50, 400), rng.integers(0, 70, 400)
    fig, counts = figures.block_partition_figure(u, i, 3)
    assert counts.sum() == 400
    expected = np.array([[np.sum((u % 3 == a) & (i % 3 == b)) for b in range(3)] for a in range(3)])
    np.testing.assert_array_equal(counts, expected)
    np.testing.assert_array_equal(figures.block_counts(u, i, 3), expected)
    tiles = [t.get_text() for t in fig.axes[1].texts]
    assert tiles == [f"{c:,}" for c in expected.ravel()]
    # the left panel regroups users by block: user index 1 (block 1) comes after the 17 users of block 0
    rows = fig.axes[0].lines[0].get_ydata()
    assert rows[u == 1].tolist() == [17] * int(np.sum(u == 1))
    assert len(fig.axes[0].lines) == 1 + 2 + 2  # the dots and the 2 + 2 block borders


def test_model_diagram_lists_the_layers_of_build_deep_model_in_order():
    pytest.importorskip("tensorflow")
    from recsys_utils.keras_models import build_deep_model

    model = build_deep_model(12, 9, n_factors=8, hidden=(8, 4), dropout=(0.2, 0.5, 0.5), random_state=0,
                             compile=False)
    fig, rows = figures.model_diagram(model)
    assert [r["name"] for r in rows] == [layer.name for layer in model.layers]
    assert [r["shape"] for r in rows] == [tuple(layer.output.shape) for layer in model.layers]
    boxes = [t.get_text().split("  ·  ")[0] for t in fig.axes[0].texts]
    assert boxes == [layer.name for layer in model.layers]
    by_name = {r["name"]: r for r in rows}
    assert by_name["concat"]["inputs"] == ["user_embedding", "item_embedding"]
    assert by_name["concat"]["shape"] == (None, 16) and by_name["rating"]["shape"] == (None, 1)
    assert by_name["dense_2"]["inputs"] == ["dropout_1"]
    assert len(fig.axes[0].patches) == sum(len(r["inputs"]) for r in rows)  # one arrow per graph edge


def test_a_notebook_cell_ending_with_the_figure_shows_it_as_png():
    from IPython.core.formatters import PNGFormatter

    fig, _ = figures.one_hot_lookup_figure(np.eye(3), 1)
    png = PNGFormatter()(fig)
    assert isinstance(png, bytes) and png.startswith(b"\x89PNG")
