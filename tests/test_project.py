"""Project-level checks: environment.yml matches pyproject.toml; licensed data is not tracked."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import pytest

    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[; ]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_names_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]
              + project["optional-dependencies"]["spark"]}
    yml = (ROOT / "environment.yml").read_text().split("dependencies:", 1)[1]
    listed = {_name(m.group(1)) for m in re.finditer(r"^\s*-\s+([A-Za-z][\w.\-]*)", yml, re.M)}
    listed -= {"python", "pip"}
    assert listed == wanted, f"only in environment.yml: {listed - wanted}; only in pyproject: {wanted - listed}"


def test_no_redistribution_restricted_movielens_files_are_tracked():
    try:
        files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        import pytest
        pytest.skip("not a git checkout")
    restricted = r"(^|/)(u\.(data|item|user)|u[1-5ab]\.(base|test)|(ratings|movies|users)\.dat|ml-(100k|1m)\.zip)$"
    bad = [f for f in files.splitlines() if re.search(restricted, f)]
    assert not bad, f"ML-100K/ML-1M files must never be committed: {bad}"


def test_readme_results_come_from_stored_notebook_outputs():
    """Every 4-decimal figure in the README's Results section is a metric a notebook recorded."""
    from recsys_utils import course

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    results = readme.split("## Results", 1)[1].split("\n## ", 1)[0]
    stored = {f"{v:.4f}" for p in course.notebooks() for v in course.read_metrics(p).values()
              if isinstance(v, float)}
    figures = re.findall(r"\b\d\.\d{4}\b", results)
    assert figures, "the README has no results table"
    stale = sorted(set(figures) - stored)
    assert not stale, f"README figures not recorded by any notebook (re-run and update): {stale}"
