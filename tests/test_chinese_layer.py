"""The Chinese layer for readers of the article: a glossary, and 本节要点 / 小结 in every notebook."""
from __future__ import annotations

import re

import nbformat
import pytest

from recsys_utils import course

GLOSSARY = course.ROOT / "docs" / "glossary.md"
NOTEBOOKS = course.notebooks()


def _glossary_rows():
    rows = [line for line in GLOSSARY.read_text(encoding="utf-8").splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]  # skip header and rule


def test_glossary_has_at_least_60_bilingual_entries():
    rows = _glossary_rows()
    assert len(rows) >= 60
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for row in rows:
        english, chinese, definition, definition_zh = row[:4]
        assert english and definition and not cjk.search(english), row
        assert cjk.search(chinese) and cjk.search(definition_zh), row
    terms = {row[1] for row in rows}
    for must in ("协同过滤", "冷启动", "正则化", "嵌入", "矩阵分解"):
        assert any(must in t for t in terms), must


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_notebook_opens_with_bendian_yaodian_and_closes_with_a_chinese_summary(path):
    nb = nbformat.read(str(path), as_version=4)
    intro = nb.cells[0].source
    assert "本节要点" in intro and "(../docs/glossary.md)" in intro
    summary = next(c.source for c in nb.cells if c.cell_type == "markdown" and "## Summary" in c.source)
    assert "小结（中文）" in summary
    # as many Chinese summary points as English ones
    english = summary.split("## Summary", 1)[1].split("小结（中文）", 1)[0]
    chinese = summary.split("小结（中文）", 1)[1].split("## Exercises", 1)[0]
    count = lambda text: len(re.findall(r"^- ", text, flags=re.M))  # noqa: E731
    assert count(chinese) == count(english) > 0
