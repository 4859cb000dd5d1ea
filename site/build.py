"""Build the course website with Jupyter Book 1.x, offline, from the notebooks' stored outputs (`make site`).

    python site/build.py [--path-output DIR]      # default: site/ -> site/_build/html/index.html

What it does, in order, and what makes it fail (exit status 1, one line saying what to do):

1. The table of contents, site/_toc.yml, is checked against the files: every `file:` entry must exist, and
   every notebook under notebooks/ and solutions/ must be covered by an entry (the numbered notebooks come in
   through the glob `notebooks/[0-9][0-9]_*`, so a new `NN_*.ipynb` needs no edit). A `glob:` that matches
   nothing (solutions/ or docs/article_claims.md before they exist) is left out of this build.
2. Every notebook output must have a MIME type the site can show (the course's own metrics type is shown
   through its text/plain twin).
3. MathJax 3 (pinned in site/package.json and package-lock.json) is installed once with `npm ci` into
   site/node_modules/ and served from the built site (html_extra_path, under mathjax/): no page fetches
   anything from the network.
4. Jupyter Book builds from the repository root with warnings as errors (-W -n --keep-going, every page
   re-read): a broken cross-reference or link, a missing figure or a TOC entry without a file fails it.
5. The built HTML is checked: every internal link and anchor resolves, every image file exists, no script,
   stylesheet, font or image is loaded from another host.

The effective _config.yml and _toc.yml (absolute paths, empty globs removed) are written next to the output,
in <path-output>/_build/site-config/, so parallel builds into different folders never share state.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

SITE = Path(__file__).resolve().parent
ROOT = SITE.parent
NOTEBOOK_DIRS = ("notebooks", "solutions")  # every notebook in these folders must be in the TOC
SUFFIXES = (".md", ".ipynb")
# MIME types myst-nb renders for HTML, and ours: application/vnd.recsys-course.metrics+json is skipped
# (its text/plain twin is shown; suppress_warnings in _config.yml), so check_outputs() guards the rest.
RENDERED_MIME = {
    "text/plain", "text/html", "text/markdown", "text/latex", "image/png", "image/jpeg", "image/gif",
    "image/svg+xml", "image/webp", "application/javascript", "application/vnd.jupyter.widget-view+json",
    "application/vnd.jupyter.widget-state+json",
}
IGNORED_MIME = {"application/vnd.recsys-course.metrics+json"}


class SiteError(Exception):
    """A problem that stops the build; its message is one line that says what to do."""


# ---------------------------------------------------------------------------------------------------------
# 1. the table of contents


def _doc_exists(root: Path, docname: str) -> bool:
    return any((root / f"{docname}{s}").is_file() for s in SUFFIXES) or (
        Path(docname).suffix in SUFFIXES and (root / docname).is_file())


def _glob_docs(root: Path, pattern: str) -> list[str]:
    """Docnames (no suffix) that a TOC glob matches, sorted as Sphinx sorts them."""
    found = set()
    for suffix in SUFFIXES:
        for path in glob.glob(str(root / f"{pattern}{suffix}")):
            rel = Path(path).relative_to(root).as_posix()
            if "/." not in f"/{rel}" and Path(path).is_file():
                found.add(rel[: -len(suffix)])
    return sorted(found)


def _entries(node):
    """Every dict entry (file:, glob:, url:) in a TOC tree, depth first."""
    if isinstance(node, dict):
        if any(k in node for k in ("file", "glob", "url")):
            yield node
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key) or []:
                yield from _entries(child)
    elif isinstance(node, list):
        for child in node:
            yield from _entries(child)


def _prune_empty_globs(node, root: Path):
    """A copy of the TOC tree without glob entries that match nothing, nor parts left empty."""
    if isinstance(node, list):
        kept = [_prune_empty_globs(child, root) for child in node]
        return [child for child in kept if child is not None]
    if not isinstance(node, dict):
        return node
    if "glob" in node and not _glob_docs(root, node["glob"]):
        return None
    out = dict(node)
    for key in ("parts", "chapters", "sections"):
        if key in node:
            out[key] = _prune_empty_globs(node[key], root)
            if not out[key]:
                del out[key]
                if key in ("chapters",) and not any(k in out for k in ("file", "glob", "url")):
                    return None  # a part whose chapters are all empty globs
    return out


def check_toc(toc: dict, root: Path) -> tuple[dict, list[str], list[str]]:
    """(effective TOC, docnames in reading order, errors) for a jb-book TOC rooted at ``root``."""
    errors: list[str] = []
    if not isinstance(toc, dict) or "root" not in toc:
        return toc, [], ["site/_toc.yml has no `root:` entry: restore it (the README is the home page)"]
    order: list[str] = []
    if _doc_exists(root, toc["root"]):
        order.append(toc["root"])
    else:
        errors.append(f"site/_toc.yml: root `{toc['root']}` points at a missing file: fix the entry")
    for entry in _entries(toc):
        if "file" in entry:
            name = str(entry["file"])
            if _doc_exists(root, name):
                order.append(re.sub(r"\.(md|ipynb)$", "", name))
            else:
                errors.append(f"site/_toc.yml: entry `file: {name}` points at a missing file "
                              f"(no {name}.md or {name}.ipynb): fix or remove the entry")
        elif "glob" in entry:
            order.extend(_glob_docs(root, str(entry["glob"])))
    covered = set(order)
    for folder in NOTEBOOK_DIRS:
        for path in sorted((root / folder).rglob("*.ipynb")) if (root / folder).is_dir() else []:
            rel = path.relative_to(root)
            if any(part.startswith(".") for part in rel.parts):
                continue
            docname = rel.with_suffix("").as_posix()
            if docname not in covered:
                hint = " (or name it NN_*.ipynb)" if folder == "notebooks" else ""
                errors.append(f"{rel.as_posix()} is not in the site's table of contents: add "
                              f"`- file: {docname}` to site/_toc.yml{hint}")
    return _prune_empty_globs(toc, root), order, errors


# ---------------------------------------------------------------------------------------------------------
# 2. notebook outputs


def check_outputs(root: Path, docnames: list[str]) -> list[str]:
    errors = []
    for name in docnames:
        path = root / f"{name}.ipynb"
        if not path.is_file():
            continue
        nb = json.loads(path.read_text(encoding="utf-8"))
        for i, cell in enumerate(nb.get("cells", [])):
            for out in cell.get("outputs", []):
                mimes = set(out.get("data", {}))
                unknown = mimes - RENDERED_MIME - IGNORED_MIME
                if unknown:
                    errors.append(f"{name}.ipynb cell {i}: output type {sorted(unknown)} cannot be shown on the "
                                  f"site: add a text/plain or text/html version of that output")
                elif mimes and not mimes & RENDERED_MIME:
                    errors.append(f"{name}.ipynb cell {i}: output {sorted(mimes)} has no text/plain twin: "
                                  f"the site would show nothing for it")
    return errors


# ---------------------------------------------------------------------------------------------------------
# 3. MathJax


def mathjax_dir(site: Path = SITE) -> Path:
    """site/node_modules/mathjax, installed with `npm ci` from the lock file when missing or outdated."""
    lock = json.loads((site / "package-lock.json").read_text(encoding="utf-8"))
    wanted = lock["packages"]["node_modules/mathjax"]["version"]
    pkg = site / "node_modules" / "mathjax"

    def installed() -> bool:
        try:
            meta = json.loads((pkg / "package.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return meta.get("version") == wanted and (pkg / "es5" / "tex-chtml.js").is_file()

    if installed():
        return pkg
    npm = shutil.which("npm")
    if npm is None:
        raise SiteError(f"MathJax {wanted} is not installed in site/node_modules and npm was not found: "
                        f"install Node.js with npm (Debian: apt-get install npm), then rerun make site")
    with _lock(site / "node_modules.lock"):
        if not installed():  # another build may have installed it while we waited
            print(f"installing MathJax {wanted} into site/node_modules (npm ci, once)", flush=True)
            proc = subprocess.run([npm, "ci", "--prefix", str(site), "--no-audit", "--no-fund",
                                   "--loglevel=error"], capture_output=True, text=True)
            if proc.returncode != 0 or not installed():
                sys.stderr.write(proc.stdout + proc.stderr)
                raise SiteError(f"npm ci could not install MathJax {wanted} into site/node_modules: see npm's "
                                f"message above (the npm registry must be reachable once)")
    return pkg


@contextlib.contextmanager
def _lock(path: Path):
    import fcntl

    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def stage_mathjax(mathjax: Path, extra: Path) -> None:
    """<extra>/mathjax/ = links to MathJax's es5/ entries, plus its licence (Apache-2.0 asks for it)."""
    target = extra / "mathjax"
    shutil.rmtree(extra, ignore_errors=True)
    target.mkdir(parents=True)
    for entry in (mathjax / "es5").iterdir():
        (target / entry.name).symlink_to(entry.resolve())
    shutil.copyfile(mathjax / "LICENSE", target / "LICENSE")


# ---------------------------------------------------------------------------------------------------------
# 5. the built HTML


class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str]] = []  # (tag.attribute, url)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if a.get(key):
                self.ids.add(a[key])
        if tag == "a" and a.get("href"):
            self.refs.append(("a", a["href"]))
        elif tag in ("img", "script", "iframe", "source") and a.get("src"):
            self.refs.append((tag, a["src"]))
        elif tag == "link" and a.get("href") and a.get("rel", "").split()[0:1] != ["canonical"]:
            self.refs.append(("link", a["href"]))


def page_ids(path: Path, _cache: dict = {}) -> set[str]:  # noqa: B006 - a per-process parse cache
    key = (path, path.stat().st_mtime_ns)
    if key not in _cache:
        parser = _Page()
        parser.feed(path.read_text(encoding="utf-8"))
        _cache[key] = parser.ids
    return _cache[key]


def resolve_local(html_root: Path, page: Path, url: str) -> str | None:
    """None when ``url`` (in ``page``) is external or resolves in the built site, else what is wrong."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return None
    target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
    if parts.path.endswith("/") or target.is_dir():
        target = target / "index.html"
    try:
        target.relative_to(html_root.resolve())
    except ValueError:
        return f"{url} points outside the site"
    if not target.is_file():
        return f"{url} points at a missing file"
    if target.suffix == ".html" and parts.fragment and unquote(parts.fragment) not in page_ids(target):
        return f"{url}: no anchor #{parts.fragment} in {target.relative_to(html_root.resolve())}"
    if target.stat().st_size == 0:
        return f"{url} points at an empty file"
    return None


def html_pages(html_root: Path) -> list[Path]:
    skip = ("_static", "_sources", "_downloads", "_images", "mathjax")
    return sorted(p for p in html_root.rglob("*.html") if p.relative_to(html_root).parts[0] not in skip)


def check_html(html_root: Path) -> list[str]:
    errors = []
    for page in html_pages(html_root):
        parser = _Page()
        parser.feed(page.read_text(encoding="utf-8"))
        rel = page.relative_to(html_root)
        for tag, url in parser.refs:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https") or url.startswith("//"):
                if tag != "a":
                    errors.append(f"{rel}: <{tag}> loads {url} from the network: serve it from the site")
                continue
            if parts.scheme in ("mailto", "data", "javascript"):
                continue
            problem = resolve_local(html_root, page, url)
            if problem:
                errors.append(f"{rel}: broken {'link' if tag == 'a' else tag} {problem}")
            elif tag == "a" and "_downloads/" in parts.path and parts.path.endswith(SUFFIXES):
                # myst turns a link to an existing .md/.ipynb that is not a page into a raw-file download
                name = unquote(parts.path.rsplit("/", 1)[1])
                errors.append(f"{rel}: links {name} as a download, not a page: add that file to site/_toc.yml")
    return errors


# ---------------------------------------------------------------------------------------------------------
# 4. the build


def write_config(config_in: Path, out_dir: Path, extra: Path) -> Path:
    config = yaml.safe_load(config_in.read_text(encoding="utf-8"))
    sphinx = config.setdefault("sphinx", {})
    local = sphinx.get("local_extensions") or {}
    sphinx["local_extensions"] = {name: str((config_in.parent / path).resolve()) for name, path in local.items()}
    cfg = sphinx.setdefault("config", {})
    cfg["html_extra_path"] = [str(extra)]
    path = out_dir / "_config.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def build(path_output: Path, source: Path = ROOT, toc_file: Path | None = None, config_file: Path | None = None,
          mathjax: Path | None = None, verbose: bool = False) -> Path:
    """Build the site into ``path_output``/_build/html and return that folder; raise SiteError on failure."""
    toc_file = toc_file or source / "site" / "_toc.yml"
    config_file = config_file or source / "site" / "_config.yml"
    toc = yaml.safe_load(toc_file.read_text(encoding="utf-8"))
    effective, order, errors = check_toc(toc, source)
    errors += check_outputs(source, order)
    if errors:
        for line in errors if len(errors) > 1 else []:
            print(f"error: {line}", file=sys.stderr)
        raise SiteError(errors[0] if len(errors) == 1 else f"{len(errors)} problems (listed above); first: "
                        f"{errors[0]}")
    mathjax = mathjax or mathjax_dir()

    build_dir = path_output.resolve() / "_build"
    html_root = build_dir / "html"
    conf_dir = build_dir / "site-config"
    conf_dir.mkdir(parents=True, exist_ok=True)
    stage_mathjax(mathjax, conf_dir / "extra")
    (conf_dir / "_toc.yml").write_text(yaml.safe_dump(effective, allow_unicode=True, sort_keys=False),
                                       encoding="utf-8")
    config = write_config(config_file, conf_dir, conf_dir / "extra")

    cmd = [sys.executable, "-c", "import sys; from jupyter_book.cli.main import main; sys.exit(main())",
           "build", str(source), "--path-output", str(path_output.resolve()), "--config", str(config),
           "--toc", str(conf_dir / "_toc.yml"), "-W", "-n", "--keep-going", "--all"]
    try:
        import jupyter_book  # noqa: F401
    except ImportError:
        raise SiteError("jupyter-book is not installed: pip install -e '.[site]' (make setup does it)") from None
    shutil.rmtree(html_root, ignore_errors=True)  # no page of an earlier build survives unchecked
    env = {**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1", "NO_COLOR": "1"}
    proc = subprocess.run(cmd, cwd=source, capture_output=True, text=True, env=env)
    log = proc.stdout + proc.stderr
    (build_dir / "build.log").write_text(log, encoding="utf-8")
    warnings = [_plain(line) for line in log.splitlines() if re.search(r"\b(WARNING|ERROR|CRITICAL)\b", line)]
    if verbose:
        sys.stdout.write(log)
    if proc.returncode != 0 or warnings:
        for line in warnings:
            print(line, file=sys.stderr)
        if not warnings:
            sys.stderr.write(log[-4000:])
        first = warnings[0] if warnings else "see the log above"
        raise SiteError(f"Jupyter Book reported {len(warnings)} warning(s), listed above (log: "
                        f"{build_dir / 'build.log'}); fix each broken link, figure or reference. First: {first}")
    errors = check_html(html_root)
    if errors:
        for line in errors:
            print(f"error: {line}", file=sys.stderr)
        raise SiteError(f"the built site has {len(errors)} broken reference(s), listed above; first: {errors[0]}")
    return html_root


def _plain(line: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", line).strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--path-output", type=Path, default=SITE,
                        help="the site goes to PATH/_build/html (default: site/)")
    parser.add_argument("--source", type=Path, default=ROOT,
                        help="the book's root, with site/_toc.yml and site/_config.yml (default: this repository)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print Jupyter Book's whole log")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        html_root = build(args.path_output, source=args.source.resolve(), verbose=args.verbose)
    except SiteError as err:
        print(f"make site: {err}", file=sys.stderr)
        return 1
    pages = len(html_pages(html_root))
    print(f"site built in {time.perf_counter() - start:.1f} s: {pages} pages, open {html_root / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
