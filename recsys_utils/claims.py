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


SEEDS_CSV = "benchmarks/results/seeds.csv"


def _over_seeds(notebook, *names):
    """The named metrics over the seeds of benchmarks/bench_seeds.py, as the notebooks read them."""
    from . import course, seeds

    table = seeds.load_seeds(course.ROOT / SEEDS_CSV, notebook, "ml-latest-small")
    return [seeds.measured(table, n) for n in names]


def _seed_claim(notebook, above, below, holds_text, sentence):
    """Verdict on the claim "``above`` is higher than ``below``" over seeds, and the measured sentence."""
    from . import seeds

    a, b = _over_seeds(notebook, above, below)
    verdict = seeds.verdict(a, b, "does not hold", holds_text)
    return verdict, sentence.format(a=seeds.fmt(a), b=seeds.fmt(b)) + " (mean ± spread, max − min over 3 seeds)"


def _deep_train_above_mf(m):
    return _seed_claim("05", "article_train_rmse", "keras_mf_train_rmse", "holds",
                       "the article's dropout network ends at a training RMSE (inference mode) of {a}, the Keras MF "
                       "of the same budget at {b}")


def _dropout_raises_train_error(m):
    return _seed_claim("05", "dropout05_train_rmse", "dropout0_train_rmse", "holds",
                       "same network and budget: training RMSE {a} with dropout 0.5, {b} without dropout (the "
                       "network without dropout ends at very different training errors from seed to seed)")


def _dropout_pays_on_test(m):
    return _seed_claim("05", "dropout0_best_test_rmse", "dropout05_best_test_rmse", "holds",
                       "best test RMSE over the epochs: {a} without dropout, {b} with dropout 0.5")


def _side_features(m):
    return _seed_claim("04", "deep_ids_only_test_rmse", "deep_side_features_test_rmse", "holds (they help)",
                       "test RMSE of the article's architecture on ids only {a}, with genres and year {b} "
                       "(ml-latest-small has no user table: no age or region)")


def _softmax(m):
    from . import seeds

    soft, reg = _over_seeds("04", "softmax_expected_test_rmse", "deep_ids_only_test_rmse")
    worse = seeds.verdict(soft, reg, "and beats regression", "but scores worse than regression")
    verdict = "it works" if worse == seeds.NO_DIFFERENCE else f"it works, {worse.removeprefix('and ')}"
    return (verdict, f"a softmax over the rating levels, read as the expected rating: test RMSE {seeds.fmt(soft)}, "
            f"against {seeds.fmt(reg)} for the regression output (mean ± spread, max − min over 3 seeds)"
            + ("; no measurable difference" if worse == seeds.NO_DIFFERENCE else ""))


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
    Claim("如果有除用户、电影之外的数据,比如用户年龄、地区、电影属性、演员等外在变量,则统统可以加入模型中。",
          "If there are data beyond users and movies, such as the user's age or region, the movie's attributes or "
          "actors, they can all be added to the model.", "04", "Side features", _side_features),
    Claim("读者可以尝试分类问题,用Softmax 去模拟每个评分类别的概率。",
          "Readers can try it as a classification problem, with a softmax modelling the probability of each "
          "rating class.", "04", "Softmax over rating levels", _softmax),
    Claim("为什么这个误差和之前矩阵分解的浅层模型误差的差距比较大?",
          "Why is this error so different from the shallow matrix factorization model's? (The deep model's "
          "training error is the higher one.)", "05", "Verdict in numbers, (a)", _deep_train_above_mf),
    Claim("因此,Dropout 是训练误差增加的原因,这是设计模型的必然结果。",
          "Therefore dropout is the reason the training error is higher; it follows from the model's design.",
          "05", "Verdict in numbers, (b)", _dropout_raises_train_error),
    Claim("必然会造成训练数据的信息丢失(这种丢失会让我们在测试数据时受益)。",
          "It necessarily loses information from the training data (a loss we benefit from on the test data).",
          "05", "Verdict in numbers, (c)", _dropout_pays_on_test),
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
