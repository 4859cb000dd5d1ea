"""The course website (`make site`, site/build.py): its checks, one real build, and that build in a browser.

Three tiers:

* unit tests of the build's own checks (table of contents, output types, built HTML) on small trees in a
  temporary folder: fast, no Jupyter Book needed, part of `make test-fast`;
* `slow`: one real build of the site into a temporary folder (never site/_build, so parallel runs do not
  clash), shared by the tests of this module, and a build of a small broken book that must fail;
* `slow`, in a real browser: the Debian ``chromium`` package driven by Playwright (its own browser download is
  never used), with every request that is not to the local test server aborted: every page loads with no
  console error or failed request, links resolve, images have a size, math is typeset, Chinese is drawn with
  a CJK font, and JupyterLab runs notebook 01's first cells. Without chromium, the font or the Playwright
  wheel these skip, naming what to install.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
slow = pytest.mark.slow


def _load_build_module():
    # site/ is not a package (and `site` is a standard-library module): load build.py by path
    spec = importlib.util.spec_from_file_location("course_site_build", ROOT / "site" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sitebuild = _load_build_module()
TOC = sitebuild.yaml.safe_load((ROOT / "site" / "_toc.yml").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------------------
# the build's own checks, on small trees


def _touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".ipynb"):
            path.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
        else:
            path.write_text(f"# {Path(name).stem}\n")


def _toc_files(toc) -> list[str]:
    return [e["file"] for e in sitebuild._entries(toc) if "file" in e]


@pytest.fixture
def course_tree(tmp_path):
    """A tree with every file that site/_toc.yml names, and two numbered notebooks."""
    _touch(tmp_path, "README.md", *(f"{name}.md" for name in _toc_files(TOC)),
           "notebooks/01_first.ipynb", "notebooks/02_second.ipynb")
    return tmp_path


def test_the_toc_covers_every_notebook_of_the_repository_in_order():
    _, order, errors = sitebuild.check_toc(TOC, ROOT)
    assert not errors, "; ".join(errors)
    numbered = sorted(p.relative_to(ROOT).with_suffix("").as_posix() for p in ROOT.glob("notebooks/[0-9][0-9]_*.ipynb"))
    assert len(numbered) >= 7, f"expected the course's notebooks under notebooks/, found {numbered}"
    in_toc = [name for name in order if name in numbered]
    assert in_toc == numbered, f"the site lists the notebooks as {in_toc}, expected {numbered}"
    assert order[0] == "README", "the README must be the site's home page (root: README in site/_toc.yml)"
    for page in ("docs/glossary", "site/launch"):
        assert page in order, f"{page} is not in site/_toc.yml"
    if (ROOT / "docs" / "article_claims.md").exists():
        assert "docs/article_claims" in order
    for nb in (ROOT / "solutions").rglob("*.ipynb") if (ROOT / "solutions").is_dir() else []:
        assert nb.relative_to(ROOT).with_suffix("").as_posix() in order


def test_a_new_numbered_notebook_needs_no_toc_edit(course_tree):
    _touch(course_tree, "notebooks/08_new.ipynb")
    _, order, errors = sitebuild.check_toc(TOC, course_tree)
    assert not errors, errors
    assert [n for n in order if n.startswith("notebooks/0")] == [
        "notebooks/01_first", "notebooks/02_second", "notebooks/08_new"]


def test_a_notebook_left_out_of_the_toc_fails_with_the_line_to_add(course_tree):
    _touch(course_tree, "notebooks/scratch.ipynb", "solutions/extra/answers.ipynb")
    _, _, errors = sitebuild.check_toc(TOC, course_tree)
    assert len(errors) == 2, errors
    assert "notebooks/scratch.ipynb is not in the site's table of contents" in errors[0]
    assert "`- file: notebooks/scratch`" in errors[0]
    assert "solutions/extra/answers.ipynb" in errors[1]


def test_a_toc_entry_without_its_file_fails(course_tree):
    (course_tree / "docs" / "glossary.md").unlink()
    _, _, errors = sitebuild.check_toc(TOC, course_tree)
    assert len(errors) == 1 and "`file: docs/glossary` points at a missing file" in errors[0], errors


def test_optional_entries_appear_once_their_files_exist(course_tree):
    effective, order, errors = sitebuild.check_toc(TOC, course_tree)
    assert not errors
    assert "Solutions" not in [p.get("caption") for p in effective["parts"]], "an empty part must be dropped"
    globs = [e["glob"] for e in sitebuild._entries(effective) if "glob" in e]
    assert globs == ["notebooks/[0-9][0-9]_*"], f"globs matching nothing must be dropped, got {globs}"

    _touch(course_tree, "solutions/01_first_solutions.ipynb", "docs/article_claims.md")
    effective, order, errors = sitebuild.check_toc(TOC, course_tree)
    assert not errors
    assert "Solutions" in [p.get("caption") for p in effective["parts"]]
    assert "solutions/01_first_solutions" in order and "docs/article_claims" in order


def _notebook_with_output(path: Path, data: dict) -> None:
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "source": "", "metadata": {}, "outputs": [
        {"output_type": "execute_result", "data": data, "metadata": {}, "execution_count": 1}]}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


def test_outputs_the_site_cannot_show_fail(tmp_path):
    metrics = "application/vnd.recsys-course.metrics+json"
    _notebook_with_output(tmp_path / "good.ipynb", {metrics: {}, "text/plain": "{}"})
    _notebook_with_output(tmp_path / "unknown.ipynb", {"application/x-mystery": {}, "text/plain": "?"})
    _notebook_with_output(tmp_path / "bare.ipynb", {metrics: {}})
    assert sitebuild.check_outputs(tmp_path, ["good"]) == []
    [unknown] = sitebuild.check_outputs(tmp_path, ["unknown"])
    assert "application/x-mystery" in unknown
    [bare] = sitebuild.check_outputs(tmp_path, ["bare"])
    assert "no text/plain twin" in bare


def test_the_html_check_finds_broken_links_anchors_images_and_network_loads(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "img.png").write_bytes(b"\x89PNG")
    (tmp_path / "sub" / "b.html").write_text('<h2 id="here">b</h2>')
    (tmp_path / "a.html").write_text(
        '<a href="sub/b.html#here">ok</a> <a href="#top" id="top">self</a> <a href="https://example.org/">ext</a>'
        '<img src="img.png"> <a href="sub/b.html#gone">1</a> <a href="missing.html">2</a> <img src="no.png">'
        '<script src="https://cdn.example.org/x.js"></script> <a href="_downloads/0a1b/new.md">as a file</a>')
    (tmp_path / "_downloads" / "0a1b").mkdir(parents=True)
    (tmp_path / "_downloads" / "0a1b" / "new.md").write_text("# new")
    errors = sitebuild.check_html(tmp_path)
    assert len(errors) == 5, errors
    assert "no anchor #gone" in errors[0]
    assert "missing.html points at a missing file" in errors[1]
    assert "broken img no.png" in errors[2]
    assert "loads https://cdn.example.org/x.js from the network" in errors[3]
    assert "links new.md as a download, not a page: add that file to site/_toc.yml" in errors[4]


def test_the_build_stops_with_one_line_before_jupyter_book_on_a_toc_problem(course_tree, capsys):
    _touch(course_tree, "notebooks/scratch.ipynb")
    (course_tree / "site" / "_toc.yml").write_text((ROOT / "site" / "_toc.yml").read_text(encoding="utf-8"))
    (course_tree / "site" / "_config.yml").write_text("title: t\n")
    with pytest.raises(sitebuild.SiteError) as err:
        sitebuild.build(course_tree / "out", source=course_tree, mathjax=course_tree / "no-mathjax")
    assert "\n" not in str(err.value) and "notebooks/scratch.ipynb is not in" in str(err.value)
    assert not (course_tree / "out").exists(), "nothing may be built when the table of contents is wrong"


# --------------------------------------------------------------------------------------------------------
# one real build, shared


@pytest.fixture(scope="session")
def site_html(tmp_path_factory):
    """site/build.py run as `make site` runs it, into a temporary folder; -> the html folder."""
    pytest.importorskip("jupyter_book", reason="jupyter-book is not installed: pip install -e '.[site]'")
    out = tmp_path_factory.mktemp("site")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(ROOT / "site" / "build.py"), "--path-output", str(out)],
                          cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0, f"the site build failed:\n{proc.stdout}\n{proc.stderr}"
    print(f"\nsite build: {elapsed:.1f} s")
    return out / "_build" / "html"


@slow
def test_the_site_has_every_page_in_order_and_serves_its_own_mathjax(site_html):
    _, order, _ = sitebuild.check_toc(TOC, ROOT)
    missing = [name for name in order if not (site_html / f"{name}.html").is_file()]
    assert not missing, f"pages missing from the built site: {missing}"
    assert "README.html" in (site_html / "index.html").read_text(encoding="utf-8"), "index.html must open the README"
    home = (site_html / "README.html").read_text(encoding="utf-8")
    for nb in sorted(ROOT.glob("notebooks/[0-9][0-9]_*.ipynb")):
        assert f'href="notebooks/{nb.stem}.html"' in home, f"the home page has no link to {nb.stem}.html"
    nav = home.split('bd-docs-nav"', 1)[1].split("</nav>", 1)[0]
    sidebar = re.findall(r'href="notebooks/(\d\d)_[^"]+\.html"', nav)
    assert sidebar == sorted(sidebar) and sidebar, f"notebooks out of order in the sidebar: {sidebar}"
    assert (site_html / "mathjax" / "tex-chtml.js").stat().st_size > 100_000
    assert (site_html / "mathjax" / "LICENSE").is_file(), "MathJax's licence must ship with it"
    with_math = (site_html / "notebooks" / "02_matrix_factorization_numpy.html").read_text(encoding="utf-8")
    assert 'src="../_static/../mathjax/tex-chtml.js' in with_math, "pages with math must load the site's MathJax"
    assert not list((site_html / "_static").glob("**/tex-chtml.js")), "MathJax must not sit under _static/"
    assert "THEBE_JS_URL" not in home, "sphinx-thebe's inline script is back (site/_ext/offline_site.py)"
    assert sitebuild.check_html(site_html) == []


@slow
def test_a_broken_link_a_missing_figure_and_a_bad_reference_fail_the_build(tmp_path):
    pytest.importorskip("jupyter_book", reason="jupyter-book is not installed: pip install -e '.[site]'")
    (tmp_path / "site").mkdir()
    shutil.copytree(ROOT / "site" / "_ext", tmp_path / "site" / "_ext")
    shutil.copyfile(ROOT / "site" / "_config.yml", tmp_path / "site" / "_config.yml")
    (tmp_path / "site" / "_toc.yml").write_text("format: jb-book\nroot: README\nchapters:\n  - file: page\n")
    (tmp_path / "README.md").write_text("# Home\n\nSee [the page](page.md) and [nothing](nowhere.md).\n\n"
                                        "![a figure](figures/none.png)\n")
    (tmp_path / "page.md").write_text("# Page\n\n{ref}`no-such-label`\n")
    proc = subprocess.run([sys.executable, str(ROOT / "site" / "build.py"), "--source", str(tmp_path),
                           "--path-output", str(tmp_path / "out")], capture_output=True, text=True)
    assert proc.returncode == 1, f"the build of a broken book must fail:\n{proc.stdout}\n{proc.stderr}"
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("make site: Jupyter Book reported 3 warning(s)"), last
    for problem in ("nowhere.md", "figures/none.png", "no-such-label"):
        assert problem in proc.stderr, f"the build did not report {problem}:\n{proc.stderr}"


# --------------------------------------------------------------------------------------------------------
# in a real browser

CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/lib/chromium-browser/chromium-browser")
CJK_SAMPLE = "本节要点"
TOFU = "\u0378"  # an unassigned code point: no font has it, so it is drawn as the missing-glyph box


def _chromium() -> str:
    candidates = ([os.environ["CHROMIUM_PATH"]] if os.environ.get("CHROMIUM_PATH") else []) + list(CHROMIUM_CANDIDATES)
    path = next((p for p in candidates if os.access(p, os.X_OK)), None)
    if not path:
        pytest.skip("no Chromium: install the Debian package `chromium` (apt-get install chromium)")
    return path


def _launch(playwright, **kwargs):
    return playwright.chromium.launch(executable_path=_chromium(), headless=True, **kwargs)


@pytest.fixture(scope="module")
def playwright():
    # Module scope, not session: while Playwright runs, its event loop counts as running in this thread, and
    # the later tests' asyncio.run() (jupyter_client, nbval) would fail.
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="the playwright wheel is not installed: pip install -e '.[site]'")
    _chromium()
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright):
    browser = _launch(playwright)
    yield browser
    browser.close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site_url(site_html):
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site_html)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _offline_context(browser, allowed: str):
    """A browser context where every request not under ``allowed`` is aborted and recorded."""
    context = browser.new_context()
    context.blocked = []

    def route(r):
        if r.request.url.startswith(allowed):
            r.continue_()
        else:
            context.blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    return context


MEASURE_JS = """(args) => {
  const [sample, tofu] = args;
  const holder = [...document.querySelectorAll('h1, h2, h3, p, li, td, th, strong, span')]
      .find(e => e.childElementCount === 0 && e.textContent.includes(sample));
  if (!holder) return null;
  const font = getComputedStyle(holder).font;
  const width = (text) => {
    const s = document.createElement('span');
    s.style.cssText = 'position:absolute;left:0;top:0;display:inline-block;white-space:pre;visibility:hidden';
    s.style.font = font;
    s.textContent = text;
    document.body.appendChild(s);
    const w = s.getBoundingClientRect().width;
    s.remove();
    return w;
  };
  const n = [...sample].length;
  return {font, cjk: width(sample), tofu: width(tofu.repeat(n))};
}"""

PAGE_JS = """async () => {
  if (window.MathJax && MathJax.startup) await MathJax.startup.promise;
  await Promise.all([...document.images].map(i => { i.loading = 'eager'; return i.decode().catch(() => null); }));
  const math = [...document.querySelectorAll('.math')];
  const body = document.querySelector('main') || document.body;
  const clone = body.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, .highlight, textarea').forEach(e => e.remove());
  return {
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    images: [...document.images].map(i => ({src: i.getAttribute('src'), width: i.naturalWidth,
                                            height: i.naturalHeight})),
    math: math.length,
    typeset: math.filter(m => m.querySelector('mjx-container')).length,
    mjx: document.querySelectorAll('mjx-container').length,
    text: clone.textContent,
  };
}"""


@pytest.fixture(scope="module")
def visits(browser, site_url, site_html):
    """Every built page opened once: what it logged, what it requested, and what it shows."""
    context = _offline_context(browser, site_url)
    results = {}
    for path in [site_html / "index.html", *sitebuild.html_pages(site_html)]:
        name = path.relative_to(site_html).as_posix()
        page = context.new_page()
        seen = {"console": [], "failed": [], "status": []}
        page.on("console", lambda m, s=seen: s["console"].append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e, s=seen: s["console"].append(f"uncaught: {e}"))
        page.on("requestfailed", lambda r, s=seen: s["failed"].append(f"{r.url} ({r.failure})"))
        page.on("response", lambda r, s=seen: s["status"].append(f"{r.url} ({r.status})") if r.status >= 400 else None)
        context.blocked.clear()
        page.goto(site_url + name, wait_until="load")
        if name == "index.html":
            page.wait_for_url("**/README.html")
        page.wait_for_function("() => !window.MathJax || (MathJax.startup && MathJax.startup.promise)")
        seen.update(page.evaluate(PAGE_JS))
        seen["blocked"] = list(context.blocked)
        seen["cjk"] = page.evaluate(MEASURE_JS, [CJK_SAMPLE if CJK_SAMPLE in seen["text"] else "术语表", TOFU])
        page.wait_for_timeout(50)  # let late console messages arrive
        results[name] = seen
        page.close()
    context.close()
    return results


@slow
def test_every_page_loads_offline_with_no_console_error_or_failed_request(visits):
    assert len(visits) >= 12
    problems = {name: {k: v[k] for k in ("console", "failed", "status", "blocked") if v[k]}
                for name, v in visits.items()}
    problems = {name: p for name, p in problems.items() if p}
    assert not problems, f"pages with console errors, failed, 4xx/5xx or off-site requests: {problems}"


@slow
def test_every_internal_link_resolves(visits, site_url, site_html):
    broken, checked = [], 0
    for name, v in visits.items():
        for url in v["links"]:
            if not url.startswith(site_url):
                continue
            checked += 1
            # the URL relative to the site's root, resolved as if from a page there
            problem = sitebuild.resolve_local(site_html, site_html / "index.html", url[len(site_url):])
            if problem:
                broken.append(f"{name}: {problem}")
    assert checked > 100, f"only {checked} internal links found"
    assert not broken, f"broken internal links: {broken}"


@slow
def test_every_image_has_a_size(visits):
    images = [(name, i) for name, v in visits.items() for i in v["images"]]
    assert len(images) >= 7, "the notebooks' figures are missing from the site"
    empty = [f"{name}: {i['src']}" for name, i in images if not (i["width"] > 0 and i["height"] > 0)]
    assert not empty, f"images that did not load: {empty}"


RAW_MATH = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\$[^$\n]{1,200}?\$")


@slow
def test_math_is_typeset_by_the_local_mathjax(visits):
    with_math = {name: v for name, v in visits.items() if v["math"]}
    assert len(with_math) >= 3, "expected math on several pages (notebooks 02, 06, 07 ...)"
    untypeset = {name: f"{v['typeset']}/{v['math']}" for name, v in with_math.items() if v["typeset"] < v["math"]}
    assert not untypeset, f"math left untypeset (typeset/total): {untypeset}"
    raw = {name: RAW_MATH.findall(v["text"])[:3] for name, v in visits.items() if RAW_MATH.search(v["text"])}
    assert not raw, f"raw TeX left in the text of pages: {raw}"


def _require_cjk_font():
    fonts = shutil.which("fc-list") and subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True,
                                                       text=True).stdout.strip()
    if not fonts:
        pytest.skip("no CJK font: install the Debian package `fonts-wqy-microhei` (apt-get install fonts-wqy-microhei)")


def _is_drawn(measure: dict) -> bool:
    return abs(measure["cjk"] - measure["tofu"]) > 1.0


@slow
def test_chinese_is_drawn_with_a_cjk_font_not_as_boxes(visits):
    _require_cjk_font()
    measured = {name: v["cjk"] for name, v in visits.items()
                if name in ("docs/glossary.html", "notebooks/01_rating_matrix.html")}
    assert all(measured.values()) and len(measured) == 2, f"no Chinese text found to measure: {measured}"
    boxes = {name: m for name, m in measured.items() if not _is_drawn(m)}
    assert not boxes, (f"Chinese drawn as missing-glyph boxes (same width as {TOFU!r}): {boxes}; "
                       "install fonts-wqy-microhei")


@slow
def test_the_chinese_check_fails_without_a_cjk_font(playwright, site_url, tmp_path):
    """The same measure in a browser that sees only the DejaVu fonts: Chinese must come out as boxes."""
    dejavu = Path("/usr/share/fonts/truetype/dejavu")
    if not dejavu.is_dir():
        pytest.skip("no DejaVu fonts to build a font set without CJK: apt-get install fonts-dejavu-core")
    conf = tmp_path / "fonts.conf"
    conf.write_text(f'<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig><dir>{dejavu}</dir>'
                    f'<cachedir>{tmp_path / "cache"}</cachedir></fontconfig>')
    browser = _launch(playwright, env={**os.environ, "FONTCONFIG_FILE": str(conf)})
    try:
        page = browser.new_page()
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(site_url) else r.abort())
        page.goto(site_url + "docs/glossary.html", wait_until="load")
        measure = page.evaluate(MEASURE_JS, ["术语表", TOFU])
    finally:
        browser.close()
    assert measure and not _is_drawn(measure), f"without a CJK font the measure should see boxes: {measure}"


# --------------------------------------------------------------------------------------------------------
# JupyterLab, driven by the browser


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """JupyterLab as `make lab` starts it, on a copy of notebook 01 without outputs; -> (url, copy)."""
    jupyter = Path(sys.executable).with_name("jupyter")
    if not jupyter.exists():
        pytest.skip("jupyter is not installed in this environment: pip install -e .")
    work, settings = tmp_path / "work", tmp_path / "settings"
    work.mkdir()
    [source] = ROOT.glob("notebooks/01_*.ipynb")
    nb = json.loads(source.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    copy = work / source.name
    copy.write_text(json.dumps(nb), encoding="utf-8")
    for name, value in {"docmanager-extension/plugin": {"autosave": False},
                        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False}}.items():
        path = settings / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
           "IPYTHONDIR": str(tmp_path / "ipython"), "JUPYTER_PLATFORM_DIRS": "1"}
    cmd = [str(jupyter), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
           f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited ({proc.returncode}):\n{(tmp_path / 'lab.log').read_text()[-2000:]}")
            with contextlib.closing(socket.socket()) as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.3)
        else:
            pytest.fail("jupyter lab did not listen within 60 s")
        yield f"http://127.0.0.1:{port}", f"/lab/tree/{copy.name}?token={token}", copy
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@slow
def test_jupyterlab_runs_the_first_cells_of_notebook_01(browser, lab):
    base, path, copy = lab
    [committed] = ROOT.glob("notebooks/01_*.ipynb")
    before = hashlib.sha256(committed.read_bytes()).hexdigest()
    copy_before = copy.read_bytes()
    context = _offline_context(browser, base)
    try:
        page = context.new_page()
        page.goto(base + path)
        output = page.locator(".jp-OutputArea-output", has_text="MovieLens('ml-latest-small'")
        # JupyterLab may replace the notebook's first kernel right after opening it (two "Kernel started" in
        # its log), dropping what was sent to the first: run the cells again until their output shows.
        for attempt in range(3):
            page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=90_000)
            page.locator(".jp-NotebookPanel .jp-Cell.jp-CodeCell .cm-content").first.click()
            for _ in range(4):  # parameters, imports, a markdown cell, load_movielens(DATASET)
                page.keyboard.press("Shift+Enter")
            try:
                output.first.wait_for(timeout=30_000 * (attempt + 1))
                break
            except Exception:
                pass
        else:
            page.screenshot(path=str(copy.parent.parent / "lab.png"))
            log = (copy.parent.parent / "lab.log").read_text()[-1500:]
            pytest.fail(f"no output from notebook 01's first cells in JupyterLab (screenshot {copy.parent.parent}/"
                        f"lab.png); server log:\n{log}")
        prompts = page.locator(".jp-InputPrompt").all_inner_texts()
        assert any(re.search(r"\[\d+\]", p) for p in prompts), f"no execution count in the prompts: {prompts[:5]}"
        assert not context.blocked, f"JupyterLab tried to reach the network: {context.blocked[:5]}"
    finally:
        context.close()
    assert hashlib.sha256(committed.read_bytes()).hexdigest() == before, "the committed notebook 01 was rewritten"
    assert copy.read_bytes() == copy_before, "JupyterLab saved the notebook: autosave must be off"
