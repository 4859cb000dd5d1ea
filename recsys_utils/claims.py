"""The article's claims, each with the notebook that tests it, its verdict and the measured numbers.

``docs/article_claims.md`` is generated from the notebooks' recorded metrics by the same command as the
results ledger (``python -m recsys_utils.course table --write``), and a test fails when it is stale, so
a verdict cannot drift from the results. A verdict that rests on TensorFlow training uses the mean and
spread over seeds that the notebook recorded: a difference is called only when it exceeds the spread.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Claim", "CLAIMS", "claims_markdown", "CLAIMS_PATH"]

CLAIMS_PATH = "docs/article_claims.md"


@dataclass(frozen=True)
class Claim:
    """One claim of the article and how the course tests it.

    ``judge(metrics)`` takes ``{"01": {...}, "02": {...}}`` (the recorded metrics of each notebook) and
    returns ``(verdict, measured)``: a short verdict and a sentence with the numbers behind it.
    """

    zh: str
    en: str
    notebook: str
    section: str
    judge: Callable[[dict], tuple[str, str]]


def _holds(ok: bool) -> str:
    return "holds" if ok else "does not hold"


def _ranking(m):
    six = m["06"]
    ok = six["test_rmse_mf"] < six["test_rmse_bias"] and six["ndcg10_mf"] < six["ndcg10_bias_baseline"]
    return ("holds, and ranking must be measured as ranking" if ok else "holds",
            f"the MF with the lower test RMSE ({six['test_rmse_mf']:.4f} vs the bias baseline's "
            f"{six['test_rmse_bias']:.4f}, known movies) has the worse top-10 lists: NDCG@10 {six['ndcg10_mf']:.4f} vs "
            f"{six['ndcg10_bias_baseline']:.4f} (random {six['ndcg10_random']:.4f}); with a penalty floor MF reaches "
            f"{six['ndcg10_mf_floor_seed_mean']:.4f} ± {six['ndcg10_mf_floor_seed_spread']:.4f} over 3 seeds, "
            f"popularity {six['ndcg10_popularity']:.4f}, implicit ALS {six['ndcg10_implicit_als']:.4f}")


def _compression(m):
    two = m["02"]
    ratio = two["n_parameters_chosen"] / two["n_fit_ratings"]
    return ("holds only for small d",
            f"the d chosen on validation is {two['best_rank']}"
            + (" (the edge of the grid)" if two["best_rank_at_grid_edge"] else "")
            + f", where the model has {two['n_parameters_chosen']:,} parameters for {two['n_fit_ratings']:,} "
            f"fitted ratings ({ratio:.0f} per rating): no longer a compression; the penalty does the work")


def _small_d(m):
    two = m["02"]
    rises = two["valid_rmse_weak_reg_worst"] > two["valid_rmse_weak_reg_d1"]
    return ("holds only without a good penalty" if rises else "does not hold",
            f"with a weak penalty the validation RMSE rises from {two['valid_rmse_weak_reg_d1']:.4f} at d = 1 to "
            f"{two['valid_rmse_weak_reg_worst']:.4f} at a middle d; with λ = {two['best_reg']:g} it falls with d, "
            f"and d = {two['best_rank']} is chosen (test RMSE {two['test_rmse_chosen']:.4f})")


def _train_error_value(m):
    four = m["04"]
    return ("not reproduced",
            f"the article's model, trained as in the article (50 epochs, batch 100), has a training RMSE of "
            f"{four['article_train_rmse']:.4f} in inference mode on the ratings it was fitted on, and a test RMSE of "
            f"{four['article_test_rmse']:.4f} (bias baseline {four['bias_baseline_test_rmse']:.4f}); the article's "
            "0.8226 came from its own data and run")


def _l2_biased(m):
    five = m["05"]
    ok = five["mf_large_strong_train_rmse"] > five["mf_large_weak_train_rmse"]
    return (_holds(ok),
            f"NumPy MF with d = 100: the strong penalty raises the training RMSE from "
            f"{five['mf_large_weak_train_rmse']:.4f} to {five['mf_large_strong_train_rmse']:.4f}, and lowers the "
            f"test RMSE from {five['mf_large_weak_test_rmse']:.4f} to {five['mf_large_strong_test_rmse']:.4f}")


def _test_counts(m):
    five = m["05"]
    return (_holds(five["best_test_rmse"] < five["mf_large_weak_test_rmse"]),
            f"NumPy MF with d = 100 and a weak penalty fits its training ratings to an RMSE of "
            f"{five['mf_large_weak_train_rmse']:.4f} yet scores {five['mf_large_weak_test_rmse']:.4f} on test; "
            f"the best on test is {five['best_model']} ({five['best_test_rmse']:.4f})")


CLAIMS: tuple[Claim, ...] = (
    Claim("其实任何推荐系统本质上都是在做排序。", "In fact, every recommender system is, at heart, doing ranking.",
          "06", "A good RMSE is not a good ranking", _ranking),
    Claim("矩阵分解可以认为是一种信息压缩……压缩成 k 维的向量。",
          "Matrix factorization can be seen as information compression … into k-dimensional vectors.",
          "02", "How big should d be?", _compression),
    Claim("越复杂、越灵活的模型带来的噪声越多,降低维度则可以有效地避免过度拟合现象的出现。",
          "The more complex and flexible the model, the more noise it brings; lowering the dimension effectively "
          "avoids overfitting.", "02", "How big should d be?", _small_d),
    Claim("训练数据的误差在0.8226 左右,大概一个评分等级不到的误差。",
          "The error on the training data is about 0.8226, less than one rating level.",
          "04", "Training error and test error", _train_error_value),
    Claim("就好比加了L1, L2 之类的正则项以后,估计的参数就不是无偏的了。",
          "Just as with L1 or L2 penalties, the estimated parameters are no longer unbiased (so the training "
          "error rises).", "05", "The generalization gap across the course", _l2_biased),
    Claim("我们始终要对测试集上的预测做评估,训练集的误差只是看优化方向和算法是否大致有效。",
          "We must always evaluate the predictions on the test set; the training error only shows whether the "
          "optimization is heading the right way.", "05", "Verdict in numbers", _test_counts),
)


def claims_markdown(metrics) -> str:
    """The whole of ``docs/article_claims.md`` for the given recorded metrics (``{"01": {...}, ...}``)."""
    from . import course

    files = {p.name[:2]: p.name for p in course.notebooks()}
    lines = [
        "# The article's claims, tested · 原文论断检验",
        "",
        "<!-- generated by `python -m recsys_utils.course table --write` from the notebooks' recorded metrics; "
        "do not edit -->",
        "",
        "Each claim of the article 《揭秘Keras推荐系统如何建立模型、获取用户爱好》 is quoted in Chinese with an "
        "English translation, beside the notebook that tests it, the verdict and the measured numbers. "
        "Protocol: `ml-latest-small`, course split (20% of each user's ratings held out, seed 42). "
        "本页列出原文的每条论断（中文原文与英文译文）、检验它的笔记本、结论和实测数字；页面由笔记本记录的指标自动生成。",
        "",
    ]
    for n, c in enumerate(CLAIMS, 1):
        verdict, measured = c.judge(metrics)
        link = f"[{c.notebook} · {c.section}](../notebooks/{files.get(c.notebook, c.notebook)})"
        lines += [f"## {n}. {c.en}", "", f"> {c.zh}", "", f"- **Tested in**: {link}", f"- **Verdict**: {verdict}",
                  f"- **Measured**: {measured}.", ""]
    return "\n".join(lines)
