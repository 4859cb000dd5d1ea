"""The course runner's output: a readable table, every metric in a CSV, a kernel that does not warn."""
from __future__ import annotations

import csv
import os

from recsys_utils import course
from recsys_utils.kernel import kernel_manager_class

ROWS = [
    ("06_from_scores_to_recommendations.ipynb", "ok", 52.31,
     {"ndcg10_random": 0.002395, "ndcg10_popularity": 0.153703, "ndcg10_bias_baseline": 0.035, "ndcg10_mf": 0.0005,
      "test_rmse_deep": 0.878186, "coverage10_implicit": 0.083}),
    ("01_rating_matrix.ipynb", "FAILED", 2.0, {"error": "x" * 300}),
]


def test_run_table_has_one_line_per_notebook_within_100_columns():
    lines = course._table(ROWS).splitlines()
    assert max(map(len, lines)) <= course.WIDTH
    body = lines[3:]
    assert len(body) == len(ROWS)
    assert "ndcg10_random=0.0024" in body[0] and "ndcg10_popularity=0.1537" in body[0]
    assert body[1].split()[1] == "FAILED"


def test_every_metric_goes_to_the_csv(tmp_path):
    course._write_metrics_csv(ROWS, tmp_path / "metrics.csv")
    with open(tmp_path / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == sum(len(r[3]) for r in ROWS)
    assert {"notebook": ROWS[0][0], "metric": "coverage10_implicit", "value": "0.083"} in rows


def test_local_kernels_use_ipc_where_the_os_has_it():
    km = kernel_manager_class()()
    assert km.transport == ("tcp" if os.name == "nt" else "ipc")
