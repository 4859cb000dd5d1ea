"""Fetching a MovieLens archive into the data home, safely.

:func:`recsys_utils.data.download` is the public entry point; this module is
the network and file-system half behind it. It knows nothing about parsing:
it is handed a data set's spec and a ``verify`` function, and puts a folder in
place only once ``verify`` has accepted it.

What it guarantees
------------------
* **Mirrors.** The archive is looked for at the official GroupLens address,
  then at :data:`FALLBACK_MIRRORS`; ``$RECSYS_DATA_URL`` (one or more base
  URLs, separated by spaces or commas) replaces that list. A network, TLS or
  HTTP failure, or a file that fails verification, moves on to the next one.
* **Redirects** may stay on the same host; to another host they must be
  https, and go to a mirror's host or be for a data set pinned by SHA-256.
* **A deadline** (:data:`DEADLINE_S`, ``$RECSYS_DOWNLOAD_TIMEOUT`` or the
  ``deadline`` argument) bounds the whole download, not just each read.
* **Nothing partial.** The archive goes to ``.<name>-*.zip.part``, the known
  members (each under :data:`MAX_MEMBER_BYTES`) are extracted to
  ``.<name>-*.extract/``, verified, and only then renamed into place. A
  failed first download also removes the empty data home it created.
* **Concurrency.** A lock file (``.<name>.lock``, ``fcntl.flock``) lets one
  process download while the others wait and then use its result; leftovers
  of a killed download are removed by the next process that gets the lock.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import http.client
import os
import re
import shutil
import ssl
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from pathlib import Path

try:  # POSIX; elsewhere concurrent first downloads fall back to "accept the copy that won"
    import fcntl
except ImportError:  # pragma: no cover (Windows)
    fcntl = None

BASE_URL = "https://files.grouplens.org/datasets/movielens/"
#: Base URLs tried, in order, after the official one (set it to add mirrors you trust).
FALLBACK_MIRRORS: tuple = ()
#: Seconds a whole download may take (``$RECSYS_DOWNLOAD_TIMEOUT`` overrides it).
DEADLINE_S = 1800.0
#: Seconds without any data from the server before giving up on it.
READ_TIMEOUT_S = 60.0
#: Largest archive member extracted (ml-25m's ratings.csv, the largest, is 678 MB).
MAX_MEMBER_BYTES = 1 << 30


class DatasetError(RuntimeError):
    """A data set is missing, corrupt, or could not be fetched. The message says what to do."""


class _MirrorFailed(Exception):
    """One mirror did not deliver a verified archive. ``message`` is the full one-line
    explanation (used when it was the only mirror), ``short`` the cause in a few words."""

    def __init__(self, message: str, short: str, final: bool = False):
        super().__init__(message)
        self.message, self.short, self.final = message, short, final  # final: try no other mirror


# --------------------------------------------------------------------------
# configuration: mirrors and deadline
# --------------------------------------------------------------------------
def mirrors() -> list:
    """Base URLs to try, in order: ``$RECSYS_DATA_URL`` if set, else GroupLens then the fallbacks."""
    env = os.environ.get("RECSYS_DATA_URL", "").strip()
    if not env:
        return [BASE_URL, *FALLBACK_MIRRORS]
    bases = [u for u in re.split(r"[\s,]+", env) if u]
    for base in bases:
        _check_base_url(base)
    return bases


def _check_base_url(base: str) -> None:
    try:
        parts = urllib.parse.urlsplit(base)
        parts.port  # noqa: B018 (raises ValueError on a malformed port)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok:
        raise DatasetError(
            f"RECSYS_DATA_URL has {base!r}, which is not an http(s) address: set it to mirror base URLs "
            f"such as {BASE_URL} (several separated by spaces), or unset it"
        )


def _deadline_seconds(deadline: float | None) -> float:
    if deadline is not None:
        return float(deadline)
    env = os.environ.get("RECSYS_DOWNLOAD_TIMEOUT", "").strip()
    if not env:
        return DEADLINE_S
    try:
        seconds = float(env)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise DatasetError(
            f"RECSYS_DOWNLOAD_TIMEOUT={env!r} is not a number of seconds: set it to e.g. 3600, or unset it")
    return seconds


def archive_url(base: str, spec) -> str:
    return base.rstrip("/") + "/" + spec.archive


def offline_hint(spec, home: Path) -> str:
    """The manual route, ending every download error."""
    url = archive_url(mirrors()[0], spec)
    return (
        f"fetch {url} yourself and unzip it into {home} (so that {home / spec.folder} holds "
        f"{spec.files()[0]}), or set RECSYS_DATA_HOME to a folder that has it; "
        "'ml-latest-small' ships with the course and works offline"
    )


# --------------------------------------------------------------------------
# the data home: create it, lock it, clean it
# --------------------------------------------------------------------------
def _local_error(home: Path, exc: OSError) -> DatasetError:
    """A failure writing in the data home (read-only, full disk, ...), as a DatasetError."""
    return DatasetError(
        f"cannot write in the data home {home} ({exc.strerror or exc}): set RECSYS_DATA_HOME to a "
        "writable folder with free space"
    )


def _make_home(home: Path) -> list:
    """Create ``home`` and return the folders this created (deepest first), to remove on failure."""
    created, p = [], home
    while not p.exists() and p != p.parent:
        created.append(p)
        p = p.parent
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(
            f"cannot create the data home {home} ({exc.strerror or exc}): set RECSYS_DATA_HOME to a writable folder"
        ) from None
    return created


def _remove_created(created: list) -> None:
    for folder in created:  # deepest first; stops at one another process has put files in
        try:
            folder.rmdir()
        except OSError:
            return


def lock_path(home: Path, spec) -> Path:
    return home / f".{spec.name}.lock"


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    except OSError:  # a file system without locks (some network shares): go on unlocked
        return True


@contextlib.contextmanager
def _locked(path: Path, deadline: float | None, what: str):
    """Hold an exclusive lock on ``path``: wait until ``deadline`` (monotonic), or not at all if None.

    Yields True when held, False when busy and not waiting. The lock file is
    removed while still held; a waiter that then gets the lock on the removed
    file notices (the path no longer names its file) and locks the new one.
    """
    if fcntl is None:  # pragma: no cover
        yield True
        return
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        while not _try_flock(fd):
            if deadline is None or time.monotonic() > deadline:
                os.close(fd)
                if deadline is None:
                    yield False
                    return
                raise DatasetError(
                    f"another process is still downloading {what} (it holds {path}): wait for it to finish "
                    "and load again, or raise RECSYS_DOWNLOAD_TIMEOUT"
                )
            time.sleep(0.05)
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield True
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)


def _leftovers(home: Path, spec) -> list:
    return [*home.glob(f".{spec.name}-*.zip.part"), *home.glob(f".{spec.name}-*.extract")]


def _remove(paths) -> None:
    for p in paths:
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


def clean_stale(home: Path, spec) -> None:
    """Remove what a killed download of ``spec`` left in ``home``, unless a download is running now."""
    if not _leftovers(home, spec):
        return  # the usual case; touches nothing (the data home may be read-only)
    with contextlib.suppress(OSError), _locked(lock_path(home, spec), None, spec.name) as held:
        if held:
            _remove(_leftovers(home, spec))


# --------------------------------------------------------------------------
# the network: one mirror
# --------------------------------------------------------------------------
class _RedirectRefused(Exception):
    pass


class _RedirectPolicy(urllib.request.HTTPRedirectHandler):
    """Follow a redirect on the same host; to another host only over https, and only to a
    mirror's host or for a data set pinned by SHA-256 (whose bytes are checked anyway)."""

    def __init__(self, mirror_hosts, pinned: bool):
        super().__init__()
        self.mirror_hosts, self.pinned = set(mirror_hosts), pinned

    def _check(self, old: str, new: str) -> None:
        o, n = urllib.parse.urlsplit(old), urllib.parse.urlsplit(new)
        same_host = (n.scheme, n.hostname, n.port) == (o.scheme, o.hostname, o.port)
        if same_host or (n.scheme == "https" and (self.pinned or n.hostname in self.mirror_hosts)):
            return
        raise _RedirectRefused(new)

    def http_error_302(self, req, fp, code, msg, headers):
        location = headers.get("location") or headers.get("uri")
        if location:
            try:
                self._check(req.full_url, urllib.parse.urljoin(req.full_url, location))
            except _RedirectRefused:
                fp.close()
                raise
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


def _tls_failure(exc) -> ssl.SSLError | None:
    reason = getattr(exc, "reason", exc)
    return reason if isinstance(reason, ssl.SSLError) else None


def _network_failure(exc: BaseException, spec, url: str, home: Path, deadline: float, seconds: float) -> _MirrorFailed:
    """Turn what urllib/http.client/ssl raised into a one-line failure saying what to do."""
    hint = offline_hint(spec, home)
    host = urllib.parse.urlsplit(url).hostname
    tls = _tls_failure(exc)
    if time.monotonic() >= deadline:
        return _MirrorFailed(
            f"download of {spec.archive} from {url} did not finish within {seconds:g} s: try again on a faster "
            "connection, or set RECSYS_DOWNLOAD_TIMEOUT to more seconds, or " + hint,
            f"no complete download within {seconds:g} s", final=True)
    if isinstance(exc, _RedirectRefused):
        return _MirrorFailed(
            f"{url} redirected to {exc}, which is not an https address on a mirror's host, so it was refused: "
            "set RECSYS_DATA_URL to a mirror you trust, or " + hint,
            f"refused redirect to {exc}")
    if isinstance(tls, ssl.SSLCertVerificationError):
        return _MirrorFailed(
            f"could not verify the TLS certificate of {host} ({tls.verify_message or tls}) while downloading "
            f"{spec.name}: the connection may be intercepted or this system's CA certificates are outdated "
            "(update them); set RECSYS_DATA_URL to another mirror, or " + hint,
            "TLS certificate not trusted")
    if tls is not None:
        return _MirrorFailed(
            f"the TLS connection to {host} failed ({tls}) while downloading {spec.name}: set RECSYS_DATA_URL "
            "to another mirror, or " + hint, "TLS failure")
    if isinstance(exc, urllib.error.HTTPError):
        return _MirrorFailed(
            f"could not download {spec.name}: the server answered {exc.code} {exc.reason} for {url}; " + hint,
            f"HTTP {exc.code}")
    if isinstance(exc, http.client.HTTPException):
        return _MirrorFailed(
            f"download of {url} was cut off ({type(exc).__name__}): try again, or " + hint, "connection cut off")
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, TimeoutError):
        return _MirrorFailed(
            f"{host} sent nothing for {min(READ_TIMEOUT_S, seconds):g} s while downloading {spec.name}: "
            "try again later, or " + hint, "timed out")
    return _MirrorFailed(f"could not download {spec.name} from {url} ({reason}); " + hint, str(reason))


def _content_length(resp, url: str) -> int | None:
    value = resp.headers.get("Content-Length")
    if value is None:
        return None
    if not value.strip().isdigit():
        raise _MirrorFailed(
            f"the server at {url} sent a malformed Content-Length header ({value!r}): set RECSYS_DATA_URL to "
            "another mirror, or fetch the file yourself", "malformed Content-Length")
    return int(value)


def _stream(opener, url: str, dest, deadline: float) -> None:
    """Copy ``url`` into the open binary file ``dest`` by ``deadline``; detect truncation.

    Network errors propagate as they are (the caller words them); a write
    error is the data home's (full disk) and propagates as OSError.
    """
    def remaining():
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline")
        return min(READ_TIMEOUT_S, left)

    with opener.open(url, timeout=remaining()) as resp:  # noqa: S310 (http/https only, checked)
        expected = _content_length(resp, url)
        n = 0
        while True:
            remaining()  # the per-read socket timeout never exceeds the time left
            chunk = resp.read1(1 << 20)
            if not chunk:
                break
            dest.write(chunk)
            n += len(chunk)
    if expected is not None and n != expected:
        raise _MirrorFailed(f"download of {url} stopped after {n} of {expected} bytes: try again",
                            f"stopped after {n} of {expected} bytes")


# --------------------------------------------------------------------------
# the archive: check, extract what the set is known to contain
# --------------------------------------------------------------------------
def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _not_genuine(spec, url: str, problem: str, short: str) -> _MirrorFailed:
    return _MirrorFailed(f"{spec.archive} from {url} {problem}: it is not the genuine MovieLens archive; "
                         "try again, or set RECSYS_DATA_URL to another mirror", short)


def _extract(spec, archive: Path, dest: Path, url: str, home: Path) -> Path:
    """Extract the members ``spec`` is known to contain into ``dest/<folder>``; return that folder."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            root = dest.resolve()
            for m in members:  # refuse the whole archive if any path would leave the folder
                out = (root / m.filename).resolve()
                if out != root and root not in out.parents:
                    raise _MirrorFailed(
                        f"archive member {m.filename!r} would be written outside {dest}: the archive is not a "
                        "genuine MovieLens file, delete it and download again", "member with an unsafe path")
            if not any(m.filename.startswith(spec.folder + "/") for m in members):
                raise _MirrorFailed(
                    f"{spec.archive} has no folder {spec.folder}/: it is not the MovieLens archive; "
                    + offline_hint(spec, home), f"no folder {spec.folder}/")
            wanted = {f"{spec.folder}/{f}": f for f in spec.known_files()}
            folder = dest / spec.folder
            folder.mkdir()
            for m in members:
                if m.filename in wanted:
                    _extract_member(zf, m, folder / wanted[m.filename], spec, url)
            return folder
    except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise _MirrorFailed(
            f"the downloaded {spec.archive} is truncated or not a zip archive ({exc}): try again, or "
            + offline_hint(spec, home), "truncated or not a zip archive") from None


def _extract_member(zf, member, out: Path, spec, url: str) -> None:
    """Copy one member to ``out``, refusing one over :data:`MAX_MEMBER_BYTES` (declared or actual)."""
    too_big = _not_genuine(spec, url, f"has a member {member.filename} over the {MAX_MEMBER_BYTES:,}-byte cap",
                           f"{member.filename} over the size cap")
    if member.file_size > MAX_MEMBER_BYTES:
        raise too_big
    n = 0
    with zf.open(member) as src, open(out, "wb") as dst:
        while block := src.read(1 << 20):
            n += len(block)
            if n > MAX_MEMBER_BYTES:
                raise too_big
            dst.write(block)


# --------------------------------------------------------------------------
# one data set: every mirror in turn
# --------------------------------------------------------------------------
def fetch(spec, home: Path, verify, deadline: float | None = None):
    """Download ``spec`` into ``home / spec.folder``; return ``(folder, verify's result or None)``.

    ``verify(folder)`` raises :class:`DatasetError` if the extracted files are
    not the data set. The result is None when the folder was already there, or
    was put there meanwhile by another process.
    """
    urls = [archive_url(base, spec) for base in mirrors()]
    seconds = _deadline_seconds(deadline)
    stop = time.monotonic() + seconds
    target = home / spec.folder
    created = _make_home(home)
    try:
        with _locked(lock_path(home, spec), stop, spec.name):
            if target.is_dir():
                return target, None  # another process finished it while we waited
            _remove(_leftovers(home, spec))  # we hold the lock: these are a killed download's
            return target, _try_mirrors(spec, home, urls, verify, stop, seconds)
    except OSError as exc:
        _remove_created(created)
        raise _local_error(home, exc) from None
    except BaseException:
        _remove_created(created)
        raise


def _try_mirrors(spec, home, urls, verify, stop, seconds):
    failures = []
    opener = urllib.request.build_opener(
        _RedirectPolicy({urllib.parse.urlsplit(u).hostname for u in urls}, spec.pinned))
    for url in urls:
        try:
            return _from_mirror(spec, home, url, opener, verify, stop, seconds)
        except _MirrorFailed as failure:
            failures.append((url, failure))
            if failure.final:
                break
    if len(failures) == 1:
        raise DatasetError(failures[0][1].message)
    tried = "; ".join(f"{url}: {f.short}" for url, f in failures)
    raise DatasetError(f"could not download {spec.name} from any of its {len(urls)} mirrors ({tried}); "
                       + offline_hint(spec, home))


def _from_mirror(spec, home, url, opener, verify, stop, seconds):
    """Download, check, extract and verify from one mirror, then rename into place."""
    part = extract_dir = None
    try:
        with tempfile.NamedTemporaryFile(dir=home, prefix=f".{spec.name}-", suffix=".zip.part", delete=False) as f:
            part = Path(f.name)
            try:
                _stream(opener, url, f, stop)
            except (_RedirectRefused, urllib.error.URLError, http.client.HTTPException, ssl.SSLError,
                    TimeoutError, ConnectionError, ValueError) as exc:
                raise _network_failure(exc, spec, url, home, stop, seconds) from None
        if spec.archive_sha256 and _sha256_file(part) != spec.archive_sha256:
            raise _not_genuine(spec, url, "does not match its pinned SHA-256", "SHA-256 mismatch")
        extract_dir = Path(tempfile.mkdtemp(dir=home, prefix=f".{spec.name}-", suffix=".extract"))
        folder = _extract(spec, part, extract_dir, url, home)
        try:
            result = verify(folder)
        except DatasetError as exc:
            raise _MirrorFailed(str(exc), "failed verification") from None
        return _move_into_place(folder, home / spec.folder, verify, result)
    finally:
        _remove(p for p in (part, extract_dir) if p is not None)


def _move_into_place(folder: Path, target: Path, verify, result):
    """Rename the verified ``folder`` to ``target``; if another process put a copy there
    meanwhile (no lock on this system), use that copy once it too passes verification."""
    try:
        os.replace(folder, target)
        return result
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not target.is_dir():
            raise
    verify(target)
    return None
