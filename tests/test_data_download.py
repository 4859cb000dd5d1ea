"""Download hardening (issue 13, cases 2-8), against real HTTP servers on 127.0.0.1 only."""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import hashlib
import http.server
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_data import SHIPPED_SMALL, _leftovers, _zip_folder

from recsys_utils import data as D
from recsys_utils import download as DL
from recsys_utils.data import DatasetError, load_movielens

ROOT = Path(__file__).resolve().parent.parent


class _Routes(http.server.SimpleHTTPRequestHandler):
    """Serves ``www``; a first path segment picks a misbehaviour: /slow/, /delay/, /fail500/,
    /badlength/, /redirect-same/, /redirect-other/ (http, host 'localhost'), /redirect-file/."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.hits.append(self.path)
        route, _, rest = self.path.lstrip("/").partition("/")
        port = self.server.server_address[1]
        if route == "slow":  # headers at once, then one byte every 0.2 s (stops after 4 s)
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            with contextlib.suppress(OSError):
                for _ in range(20):
                    self.wfile.write(b"P")
                    self.wfile.flush()
                    time.sleep(0.2)
            self.close_connection = True
            return
        if route == "delay":
            time.sleep(1.5)
            self.path = "/" + rest
        elif route == "fail500":
            self.send_error(500)
            return
        elif route == "badlength":
            self.send_response(200)
            self.send_header("Content-Length", "12abc")
            self.end_headers()
            self.wfile.write(b"PK")
            self.close_connection = True
            return
        elif route.startswith("redirect-"):
            target = {"redirect-same": f"/{rest}", "redirect-other": f"http://localhost:{port}/{rest}",
                      "redirect-file": "file:///etc/passwd"}[route]
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()


@contextlib.contextmanager
def _serve(www: Path, tls: ssl.SSLContext | None = None):
    """Serve ``www`` on 127.0.0.1 (https with ``tls``); yields (base URL, list of requested paths)."""
    www.mkdir(exist_ok=True)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Routes, directory=str(www)))
    httpd.hits = []
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{httpd.server_address[1]}/", httpd.hits
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def www(tmp_path):
    """A served folder holding a genuine ml-latest-small.zip; yields (folder, base URL, hits)."""
    folder = tmp_path / "www"
    folder.mkdir()
    _zip_folder(SHIPPED_SMALL, folder / "ml-latest-small.zip", "ml-latest-small")
    with _serve(folder) as (url, hits):
        yield folder, url, hits


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A data home that does not exist yet, two levels below anything that does."""
    home = tmp_path / "new" / "deeper" / "cache"
    monkeypatch.setenv("RECSYS_DATA_HOME", str(home))
    return home


def _closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/"


def _nothing_left(home: Path):
    assert not home.parent.parent.exists(), sorted(p.name for p in home.parent.parent.rglob("*"))


# ---------------------------------------------------------------------------
# the registry (architecture issue): one entry per set, hashes from SHA256SUMS
# ---------------------------------------------------------------------------
def test_one_registry_with_specs_that_carry_name_and_parser():
    for name, spec in D.DATASETS.items():
        assert spec.name == name
        assert spec.kind in D._PARSERS
    assert not hasattr(D, "_LOADERS")


def test_hashes_come_from_the_sha256sums_file():
    table = D._read_checksums()
    assert len(table) == 26
    assert {f"ml-100k/{f}" for f in D.DATASETS["ml-100k"].checksums} | {
        f"ml-latest-small/{f}" for f in D.DATASETS["ml-latest-small"].checksums} == set(table)
    assert [n for n, s in D.DATASETS.items() if s.pinned] == ["ml-latest-small", "ml-100k"]
    assert all(s.archive_sha256 is None for s in D.DATASETS.values())  # none verified against a genuine copy


def test_shipped_copy_matches_the_sha256sums_file():
    for path, digest in D._read_checksums().items():
        if path.startswith("ml-latest-small/"):
            assert hashlib.sha256((D.SHIPPED_DIR / path).read_bytes()).hexdigest() == digest


# ---------------------------------------------------------------------------
# case 2: an archive pinned by SHA-256
# ---------------------------------------------------------------------------
def _with(monkeypatch, name, **changes):
    monkeypatch.setitem(D.DATASETS, name, dataclasses.replace(D.DATASETS[name], **changes))


def test_archive_sha256_is_checked_when_pinned(www, cache, monkeypatch):
    folder, url, _ = www
    monkeypatch.setenv("RECSYS_DATA_URL", url)
    _with(monkeypatch, "ml-latest-small", archive_sha256="0" * 64)
    with pytest.raises(DatasetError, match=r"ml-latest-small.zip from http://127.0.0.1:\d+/ml-latest-small.zip "
                                           "does not match its pinned SHA-256: it is not the genuine"):
        D.download("ml-latest-small")
    _nothing_left(cache)
    digest = hashlib.sha256((folder / "ml-latest-small.zip").read_bytes()).hexdigest()
    _with(monkeypatch, "ml-latest-small", archive_sha256=digest)
    assert D.download("ml-latest-small") == cache / "ml-latest-small"


# ---------------------------------------------------------------------------
# case 3: two processes downloading into the same empty data home
# ---------------------------------------------------------------------------
def test_two_processes_first_download_into_the_same_home(www, cache):
    _, url, hits = www
    env = {**os.environ, "RECSYS_DATA_HOME": str(cache), "RECSYS_DATA_URL": url + "delay/"}
    code = "from recsys_utils.data import download; print(download('ml-latest-small'))"
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in results]
    assert [out.strip() for out, _ in results] == [str(cache / "ml-latest-small")] * 2
    assert hits == ["/delay/ml-latest-small.zip"]  # the second waited for the first, then used its copy
    assert _leftovers(cache) == ["ml-latest-small"]


def test_without_a_lock_an_identical_copy_that_appeared_meanwhile_is_accepted(www, cache, monkeypatch):
    _, url, _ = www
    monkeypatch.setenv("RECSYS_DATA_URL", url)
    monkeypatch.setattr(DL, "fcntl", None)  # a system without flock
    real = D._verify_download

    def racing(spec):
        verify = real(spec)

        def verify_while_another_process_wins(folder):
            if not (cache / spec.folder).exists():
                shutil.copytree(SHIPPED_SMALL, cache / spec.folder)
            return verify(folder)
        return verify_while_another_process_wins

    monkeypatch.setattr(D, "_verify_download", racing)
    assert D.download("ml-latest-small") == cache / "ml-latest-small"
    assert _leftovers(cache) == ["ml-latest-small"]
    assert load_movielens().path == cache / "ml-latest-small"


# ---------------------------------------------------------------------------
# case 4: an overall deadline; leftovers of a killed download
# ---------------------------------------------------------------------------
def test_a_server_that_trickles_hits_the_deadline(www, cache, monkeypatch):
    _, url, _ = www
    monkeypatch.setenv("RECSYS_DATA_URL", url + "slow/")
    monkeypatch.setenv("RECSYS_DOWNLOAD_TIMEOUT", "1.5")
    start = time.monotonic()
    with pytest.raises(DatasetError, match=r"download of ml-1m.zip from http://127.0.0.1:\d+/slow/ml-1m.zip did "
                                           r"not finish within 1.5 s: try again on a faster connection, or set "
                                           "RECSYS_DOWNLOAD_TIMEOUT to more seconds, or fetch"):
        load_movielens("ml-1m")
    assert time.monotonic() - start < 5
    _nothing_left(cache)


def test_deadline_argument_and_bad_setting(www, cache, monkeypatch):
    _, url, _ = www
    monkeypatch.setenv("RECSYS_DATA_URL", url + "slow/")
    with pytest.raises(DatasetError, match="did not finish within 0.5 s"):
        D.download("ml-latest-small", deadline=0.5)
    monkeypatch.setenv("RECSYS_DOWNLOAD_TIMEOUT", "soon")
    with pytest.raises(DatasetError, match=r"RECSYS_DOWNLOAD_TIMEOUT='soon' is not a number of seconds: set it"):
        D.download("ml-latest-small")


def test_stale_leftovers_are_removed_unless_a_download_holds_the_lock(www, cache, monkeypatch):
    _, url, _ = www
    monkeypatch.setenv("RECSYS_DATA_URL", url)
    cache.mkdir(parents=True)
    part, extract = cache / ".ml-latest-small-abc.zip.part", cache / ".ml-latest-small-xyz.extract"
    part.write_bytes(b"PK half")
    extract.mkdir()
    other = cache / ".ml-100k-abc.zip.part"  # another set's download: not ours to touch
    other.write_bytes(b"PK")
    assert D.download("ml-latest-small") == cache / "ml-latest-small"  # clears the leftovers first
    assert _leftovers(cache) == [".ml-100k-abc.zip.part", "ml-latest-small"]

    part.write_bytes(b"PK killed later")  # a download killed after the set was cached
    with open(DL.lock_path(cache, D.DATASETS["ml-latest-small"]), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # ... or one still running: its files stay
        load_movielens()
        assert part.exists()
        fcntl.flock(lock, fcntl.LOCK_UN)
    load_movielens()
    assert not part.exists()


# ---------------------------------------------------------------------------
# case 5: mirrors
# ---------------------------------------------------------------------------
def test_next_mirror_after_refused_connection_http_error_and_bad_file(www, cache, monkeypatch, tmp_path):
    _, good, hits = www
    bad = tmp_path / "bad"
    bad.mkdir()
    _zip_folder(SHIPPED_SMALL, bad / "ml-latest-small.zip", "ml-latest-small", replace={"ratings.csv": b"x\n"})
    with _serve(bad) as (corrupt, _):
        monkeypatch.setenv("RECSYS_DATA_URL", f"{_closed_port_url()} {good}fail500/, {corrupt} {good}")
        assert D.download("ml-latest-small") == cache / "ml-latest-small"
    assert hits == ["/fail500/ml-latest-small.zip", "/ml-latest-small.zip"]
    assert _leftovers(cache) == ["ml-latest-small"]


def test_fallback_mirrors_follow_the_official_address(www, cache, monkeypatch):
    _, good, _ = www
    monkeypatch.delenv("RECSYS_DATA_URL", raising=False)
    monkeypatch.setattr(DL, "BASE_URL", _closed_port_url())
    monkeypatch.setattr(DL, "FALLBACK_MIRRORS", (good,))
    assert DL.mirrors() == [DL.BASE_URL, good]
    assert D.download("ml-latest-small") == cache / "ml-latest-small"


def test_every_mirror_failing_lists_each(www, cache, monkeypatch):
    _, good, _ = www
    closed = _closed_port_url()
    monkeypatch.setenv("RECSYS_DATA_URL", f"{closed} {good}fail500/")
    with pytest.raises(DatasetError) as info:
        load_movielens("ml-100k")
    msg = str(info.value)
    assert msg.startswith(f"could not download ml-100k from any of its 2 mirrors ({closed}ml-100k.zip: ")
    assert f"{good}fail500/ml-100k.zip: HTTP 500); fetch {closed}ml-100k.zip yourself and unzip it into " in msg
    _nothing_left(cache)


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory):
    """A TLS context serving a self-signed certificate (which the client must not trust)."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", d / "key.pem", "-out", d / "cert.pem", "-days", "2",
                    "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(d / "cert.pem", d / "key.pem")
    return ctx


def test_untrusted_tls_certificate_has_its_own_message_then_next_mirror(www, cache, monkeypatch, self_signed):
    folder, good, _ = www
    with _serve(folder, tls=self_signed) as (https_url, _):
        monkeypatch.setenv("RECSYS_DATA_URL", https_url)
        with pytest.raises(DatasetError) as info:
            D.download("ml-latest-small")
        msg = str(info.value)
        assert re.match(r"could not verify the TLS certificate of 127\.0\.0\.1 \(self.signed certificate\) while "
                        "downloading ml-latest-small: the connection may be intercepted or this system's CA "
                        r"certificates are outdated \(update them\); set RECSYS_DATA_URL to another mirror, or "
                        f"fetch {re.escape(https_url)}ml-latest-small.zip yourself", msg), msg
        assert "verif" not in msg.split("certificate)")[1]  # never suggests turning verification off
        _nothing_left(cache)
        monkeypatch.setenv("RECSYS_DATA_URL", f"{https_url} {good}")
        assert D.download("ml-latest-small") == cache / "ml-latest-small"


# ---------------------------------------------------------------------------
# case 6: only known members, each under a size cap
# ---------------------------------------------------------------------------
def test_only_known_members_are_extracted(www, cache, monkeypatch):
    folder, url, _ = www
    monkeypatch.setenv("RECSYS_DATA_URL", url)
    _zip_folder(SHIPPED_SMALL, folder / "ml-latest-small.zip", "ml-latest-small",
                extra={"ml-latest-small/huge.bin": b"\0" * 10_000, "elsewhere.txt": b"x"})
    path = D.download("ml-latest-small")
    assert sorted(p.name for p in path.iterdir()) == sorted(D.DATASETS["ml-latest-small"].known_files())
    assert _leftovers(cache) == ["ml-latest-small"]


def test_member_over_the_size_cap_is_refused(www, cache, monkeypatch):
    _, url, _ = www
    monkeypatch.setenv("RECSYS_DATA_URL", url)
    monkeypatch.setattr(DL, "MAX_MEMBER_BYTES", 100_000)
    with pytest.raises(DatasetError, match=r"ml-latest-small.zip from http://\S+ has a member "
                                           "ml-latest-small/(links|movies|ratings|tags).csv over the 100,000-byte "
                                           "cap: it is not the genuine MovieLens archive; try again, or set "
                                           "RECSYS_DATA_URL to another mirror"):
        D.download("ml-latest-small")
    _nothing_left(cache)


# ---------------------------------------------------------------------------
# case 7: redirects
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("route, target", [("redirect-file", "file:///etc/passwd"),
                                           ("redirect-other", "http://localhost:")])
def test_redirect_off_the_mirror_hosts_is_refused(www, cache, monkeypatch, route, target):
    _, url, _ = www
    monkeypatch.setenv("RECSYS_DATA_URL", url + route + "/")
    with pytest.raises(DatasetError, match=rf"{url}{route}/ml-latest-small.zip redirected to {target}\S*, which "
                                           "is not an https address on a mirror's host, so it was refused: set "
                                           "RECSYS_DATA_URL to a mirror you trust, or fetch"):
        D.download("ml-latest-small")
    _nothing_left(cache)


def test_redirect_on_the_same_host_is_followed(www, cache, monkeypatch):
    _, url, hits = www
    monkeypatch.setenv("RECSYS_DATA_URL", url + "redirect-same/")
    assert D.download("ml-latest-small") == cache / "ml-latest-small"
    assert hits == ["/redirect-same/ml-latest-small.zip", "/ml-latest-small.zip"]


@pytest.mark.parametrize("new, pinned, allowed", [
    ("https://mirror.example/x.zip", False, True),
    ("https://cdn.example/x.zip", False, False),
    ("https://cdn.example/x.zip", True, True),
    ("http://cdn.example/x.zip", True, False),
    ("http://mirror.example/x.zip", False, False),  # another scheme is another origin
    ("ftp://mirror.example/x.zip", True, False),
])
def test_redirect_policy(new, pinned, allowed):
    policy = DL._RedirectPolicy({"files.example", "mirror.example"}, pinned)
    check = functools.partial(policy._check, "https://files.example/ml-1m.zip", new)
    if allowed:
        check()
    else:
        with pytest.raises(DL._RedirectRefused):
            check()


# ---------------------------------------------------------------------------
# case 8: raw OS and value errors
# ---------------------------------------------------------------------------
def test_read_only_data_home(www, cache, monkeypatch):
    _, url, _ = www
    monkeypatch.setenv("RECSYS_DATA_URL", url)

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(DL.tempfile, "NamedTemporaryFile", read_only)
    with pytest.raises(DatasetError, match=f"cannot write in the data home {cache} \\(Permission denied\\): set "
                                           "RECSYS_DATA_HOME to a writable folder with free space"):
        load_movielens("ml-100k")
    _nothing_left(cache)


def test_failed_download_removes_the_data_home_it_created(www, cache, monkeypatch):
    _, url, _ = www
    monkeypatch.setenv("RECSYS_DATA_URL", url)
    with pytest.raises(DatasetError, match="the server answered 404"):
        load_movielens("ml-100k")
    _nothing_left(cache)


def test_folder_where_a_data_file_should_be(cache):
    shutil.copytree(SHIPPED_SMALL, cache / "ml-latest-small")
    (cache / "ml-latest-small" / "ratings.csv").unlink()
    (cache / "ml-latest-small" / "ratings.csv").mkdir()
    with pytest.raises(DatasetError, match=f"{cache}/ml-latest-small/ratings.csv is a folder where a data file "
                                           f"should be: delete the folder {cache}/ml-latest-small and load again"):
        load_movielens()


def test_file_where_the_set_folder_should_be(cache):
    cache.mkdir(parents=True)
    (cache / "ml-100k").write_text("oops")
    with pytest.raises(DatasetError, match=f"{cache}/ml-100k is a file where the ml-100k folder should be: move "
                                           "or delete it, then load again to download ml-100k"):
        load_movielens("ml-100k")


def test_malformed_content_length(www, cache, monkeypatch):
    _, url, _ = www
    monkeypatch.setenv("RECSYS_DATA_URL", url + "badlength/")
    with pytest.raises(DatasetError, match=r"the server at \S+/badlength/ml-latest-small.zip sent a malformed "
                                           r"Content-Length header \('12abc'\): set RECSYS_DATA_URL to another mirror"):
        D.download("ml-latest-small")
    _nothing_left(cache)


@pytest.mark.parametrize("value", ["files.grouplens.org/datasets", "ftp://example.org/", "http://host:port/",
                                   "file:///tmp/mirror/"])
def test_malformed_data_url(cache, monkeypatch, value):
    monkeypatch.setenv("RECSYS_DATA_URL", value)
    with pytest.raises(DatasetError, match=f"RECSYS_DATA_URL has '{value}', which is not an http\\(s\\) address: "
                                           "set it to mirror base URLs such as https://files.grouplens.org/"):
        load_movielens("ml-100k")
    _nothing_left(cache)
