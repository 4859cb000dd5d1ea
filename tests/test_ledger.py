"""The results ledger: every row reads a metric its notebook records, and README.md shows the current ledger."""
from __future__ import annotations

import pytest

from recsys_utils import course, ledger


def test_every_ledger_row_reads_a_recorded_metric():
    table = ledger.ledger()           # raises MissingMetricError naming the row and metric otherwise
    assert len(table) == len(ledger.ENTRIES)
    measured = table[["test_rmse", "ndcg10"]].notna().any(axis=1)
    assert measured.all(), table.loc[~measured, ["model", "recipe"]]
    assert table["seeds"].ge(1).all()
    # a spread is only shown for numbers over more than one seed
    spread = table[["test_rmse_spread", "ndcg10_spread"]].notna().any(axis=1)
    assert (table.loc[spread, "seeds"] > 1).all()


def test_each_model_and_recipe_has_one_row():
    keys = [(e.name, e.recipe) for e in ledger.ENTRIES]
    assert len(keys) == len(set(keys))


def test_readme_shows_the_current_ledger():
    assert course.table(check=True) == 0, "stale: run `python -m recsys_utils.course table --write`"


def test_a_changed_number_makes_the_readme_stale():
    readme = (course.ROOT / "README.md").read_text(encoding="utf-8")
    block = ledger.readme_block()
    first_number = next(tok for tok in block.split("|") if tok.strip().startswith(("0.", "1.")))
    tampered = readme.replace(block, block.replace(first_number, " 9.9999 ", 1))
    assert tampered != readme
    assert ledger.update_readme(tampered) == readme


def test_missing_metric_is_a_one_line_error():
    entry = ledger.ENTRIES[0]
    with pytest.raises(ledger.MissingMetricError, match=f"needs metric '{entry.rmse}' of notebook {entry.notebook}"):
        ledger.ledger({entry.notebook: {}})


def test_readme_without_markers_says_what_to_do():
    with pytest.raises(ValueError, match="has no generated ledger block"):
        ledger.update_readme("# a README without the block\n")


def test_article_claims_page_is_generated_from_the_metrics():
    from recsys_utils import claims

    metrics = {p.name[:2]: course.read_metrics(p) for p in course.notebooks()}
    page = (course.ROOT / claims.CLAIMS_PATH).read_text(encoding="utf-8")
    assert page == claims.claims_markdown(metrics), "run `python -m recsys_utils.course table --write`"
    for c in claims.CLAIMS:
        assert c.zh in page and c.en in page
    # the verdicts follow the numbers: a metric that flips the comparison flips the verdict
    flipped = {k: dict(v) for k, v in metrics.items()}
    flipped["05"]["mf_large_strong_train_rmse"] = flipped["05"]["mf_large_weak_train_rmse"] - 0.1
    [l2] = [c for c in claims.CLAIMS if c.judge.__name__ == "_l2_biased"]
    assert l2.judge(metrics)[0] == "holds" and l2.judge(flipped)[0] == "does not hold"
