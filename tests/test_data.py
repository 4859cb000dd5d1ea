"""The data layer: loading, verification, and every download fault, against a local HTTP server."""
from __future__ import annotations

import functools
import http.server
import shutil
import socket
import threading
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsys_utils import data as D
from recsys_utils.data import DatasetError, load_movielens

from helpers import require_ml100k

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
SHIPPED_SMALL = D.SHIPPED_DIR / "ml-latest-small"


# ---------------------------------------------------------------------------
# the shipped default
# ---------------------------------------------------------------------------
def test_latest_small_published_counts_and_columns():
    ds = load_movielens("ml-latest-small")
    assert list(ds.ratings.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert list(ds.items.columns) == ["item_id", "title", "year", "genres"]
    assert (len(ds.ratings), ds.n_users, ds.n_items, len(ds.items)) == (100_836, 610, 9_724, 9_742)
    assert ds.users is None
    assert ds.rating_scale == (0.5, 5.0)
    assert ds.ratings["rating"].mean() == pytest.approx(3.501557, abs=1e-6)
    toy = ds.items.set_index("item_id").loc[1]
    assert (toy["title"], toy["year"], toy["genres"]) == (
        "Toy Story (1995)", 1995, "Adventure|Animation|Children|Comedy|Fantasy")
    assert ds.title(1) == "Toy Story (1995)"
    assert "(no genres listed)" not in set(ds.items["genres"])


def test_year_parsed_from_titles_including_ranges():
    titles = pd.Series(["Heat (1995)", "Babylon 5 (1994-1998) ", "Cosmos", "Fawlty Towers (1975\u20131979)"])
    assert D._year_from_title(titles).tolist() == [1995, 1994, pd.NA, 1975]


def test_unknown_name_lists_the_choices():
    with pytest.raises(ValueError,
                       match=r"unknown data set 'ml-5k': choose one of 'ml-latest-small', 'ml-100k', 'ml-1m'"):
        load_movielens("ml-5k")


# ---------------------------------------------------------------------------
# a cache that is corrupt or incomplete
# ---------------------------------------------------------------------------
@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("RECSYS_DATA_HOME", str(tmp_path))
    return tmp_path


def _copy_small(home):
    shutil.copytree(SHIPPED_SMALL, home / "ml-latest-small")
    return home / "ml-latest-small"


def test_cached_copy_in_data_home_is_used(home):
    folder = _copy_small(home)
    assert load_movielens().path == folder


def test_checksum_mismatch_says_how_to_fix(home):
    folder = _copy_small(home)
    raw = bytearray((folder / "ratings.csv").read_bytes())
    raw[100] ^= 1
    (folder / "ratings.csv").write_bytes(raw)
    with pytest.raises(DatasetError,
                       match=r"ratings.csv failed its SHA-256 check .*delete the folder .* to re-download"):
        load_movielens()


def test_truncated_cached_file_is_detected(home):
    folder = _copy_small(home)
    data = (folder / "movies.csv").read_bytes()
    (folder / "movies.csv").write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match="movies.csv failed its SHA-256 check"):
        load_movielens()


def test_half_written_cache_is_detected(home):
    folder = _copy_small(home)
    (folder / "ratings.csv").unlink()
    with pytest.raises(DatasetError, match=r"cache at .* is incomplete \(ratings.csv is missing\): delete the folder"):
        load_movielens()


def test_shipped_copy_error_points_at_git():
    assert "git checkout -- data/ml-latest-small" in D._fix_hint(D.DATASETS["ml-latest-small"], SHIPPED_SMALL)


def test_errors_are_one_line(home):
    folder = _copy_small(home)
    (folder / "tags.csv").write_text("x")
    (folder / "ratings.csv").write_text("x")
    with pytest.raises(DatasetError) as info:
        load_movielens()
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------------------
# downloads, against a real HTTP server on 127.0.0.1
# ---------------------------------------------------------------------------
class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        if self.path.endswith("/lying-length.zip"):
            body = b"PK\x03\x04" + b"\0" * 100
            self.send_response(200)
            self.send_header("Content-Length", str(len(body) * 10))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture
def server(tmp_path):
    """Serve ``tmp_path / 'www'`` on 127.0.0.1; yields (folder, base URL)."""
    www = tmp_path / "www"
    www.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def dl(tmp_path, server, monkeypatch):
    """An empty data home and a server the loader downloads from."""
    www, url = server
    cache = tmp_path / "cache"
    monkeypatch.setenv("RECSYS_DATA_HOME", str(cache))
    monkeypatch.setenv("RECSYS_DATA_URL", url)
    return www, cache


def _zip_folder(src: Path, dest: Path, folder: str, extra=None, replace=None):
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(src.iterdir()):
            data = (replace or {}).get(f.name, f.read_bytes())
            zf.writestr(f"{folder}/{f.name}", data)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)


def _leftovers(cache: Path):
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def test_download_extracts_verifies_and_leaves_no_temporaries(dl):
    www, cache = dl
    _zip_folder(SHIPPED_SMALL, www / "ml-latest-small.zip", "ml-latest-small")
    # the shipped copy must not be used when the data home is elsewhere and asked to download
    path = D.download("ml-latest-small")
    assert path == cache / "ml-latest-small"
    assert _leftovers(cache) == ["ml-latest-small"]
    assert sorted(p.name for p in path.iterdir()) == sorted(D.DATASETS["ml-latest-small"].checksums)
    assert len(load_movielens().ratings) == 100_836


def test_download_of_genuine_ml100k_then_official_split(dl):
    require_ml100k_source()
    www, cache = dl
    _zip_folder(SHARED / "ml-100k", www / "ml-100k.zip", "ml-100k")
    ds = load_movielens("ml-100k")
    assert ds.path == cache / "ml-100k"
    assert (len(ds.ratings), ds.n_users, ds.n_items) == (100_000, 943, 1_682)
    assert _leftovers(cache) == ["ml-100k"]


def require_ml100k_source():
    if not (SHARED / "ml-100k" / "u.data").exists():
        pytest.skip(f"no genuine ml-100k copy at {SHARED} to serve from the test HTTP server")


def test_http_404_is_reported_with_what_to_do(dl):
    www, cache = dl
    with pytest.raises(DatasetError, match=r"the server answered 404 .*ml-100k\.zip; fetch .* yourself and unzip it "
                                           r"into .*ml-latest-small' ships with the course and works offline"):
        load_movielens("ml-100k")
    assert _leftovers(cache) == []


def test_unreachable_host_names_the_file_and_where_to_put_it(tmp_path, monkeypatch):
    with socket.socket() as s:  # a port on which nobody listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cache = tmp_path / "cache"
    monkeypatch.setenv("RECSYS_DATA_HOME", str(cache))
    monkeypatch.setenv("RECSYS_DATA_URL", f"http://127.0.0.1:{port}/")
    with pytest.raises(DatasetError) as info:
        load_movielens("ml-1m")
    msg = str(info.value)
    assert f"http://127.0.0.1:{port}/ml-1m.zip" in msg
    assert f"unzip it into {cache}" in msg and "ratings.dat" in msg
    assert "ml-latest-small' ships with the course and works offline" in msg
    assert "\n" not in msg
    assert _leftovers(cache) == []


def test_truncated_archive(dl):
    www, cache = dl
    _zip_folder(SHIPPED_SMALL, www / "full.zip", "ml-latest-small")
    data = (www / "full.zip").read_bytes()
    (www / "ml-latest-small.zip").write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match="the downloaded ml-latest-small.zip is truncated or not a zip archive"):
        D.download("ml-latest-small")
    assert _leftovers(cache) == []


def test_connection_cut_before_content_length(dl, monkeypatch):
    www, cache = dl
    monkeypatch.setitem(D.DATASETS, "ml-latest-small",
                        D._Spec(**{**D.DATASETS["ml-latest-small"].__dict__, "archive": "lying-length.zip"}))
    with pytest.raises(DatasetError, match=r"(cut off|stopped after)"):
        D.download("ml-latest-small")
    assert _leftovers(cache) == []


def test_member_escaping_the_folder_is_refused(dl, tmp_path):
    www, cache = dl
    _zip_folder(SHIPPED_SMALL, www / "ml-latest-small.zip", "ml-latest-small", extra={"../../escaped.txt": b"x"})
    with pytest.raises(DatasetError, match=r"member '\.\./\.\./escaped\.txt' would be written outside"):
        D.download("ml-latest-small")
    assert not list(tmp_path.rglob("escaped.txt"))
    assert _leftovers(cache) == []


def test_corrupt_member_in_download_is_refused_and_nothing_kept(dl):
    www, cache = dl
    _zip_folder(SHIPPED_SMALL, www / "ml-latest-small.zip", "ml-latest-small", replace={"ratings.csv": b"userId\n"})
    with pytest.raises(DatasetError,
                       match="ratings.csv in the downloaded ml-latest-small.zip is missing or failed its check"):
        D.download("ml-latest-small")
    assert _leftovers(cache) == []


def test_archive_without_the_folder(dl):
    www, cache = dl
    _zip_folder(SHIPPED_SMALL, www / "ml-latest-small.zip", "something-else")
    with pytest.raises(DatasetError, match="has no folder ml-latest-small/"):
        D.download("ml-latest-small")
    assert _leftovers(cache) == []


def test_leftovers_of_a_killed_download_do_not_get_in_the_way(dl):
    www, cache = dl
    cache.mkdir()
    (cache / ".ml-latest-small-abc.zip.part").write_bytes(b"PK half")
    (cache / ".ml-latest-small-xyz.extract").mkdir()
    _zip_folder(SHIPPED_SMALL, www / "ml-latest-small.zip", "ml-latest-small")
    assert D.download("ml-latest-small") == cache / "ml-latest-small"
    assert len(load_movielens().ratings) == 100_836


def test_no_download_when_asked_not_to(home):
    with pytest.raises(DatasetError, match="ml-100k is not in .* and download_if_missing=False"):
        load_movielens("ml-100k", download_if_missing=False)


# ---------------------------------------------------------------------------
# ml-100k for real (CI: RECSYS_DATA_HOME=../shared/datasets)
# ---------------------------------------------------------------------------
def test_ml100k_published_figures():
    require_ml100k()
    ds = load_movielens("ml-100k")
    assert (len(ds.ratings), ds.n_users, ds.n_items) == (100_000, 943, 1_682)
    assert round(ds.ratings["rating"].mean(), 5) == 3.52986
    assert ds.rating_scale == (1.0, 5.0)
    assert "Misérables, Les (1995)" in set(ds.items["title"])
    assert list(ds.users.columns) == ["user_id", "age", "gender", "occupation", "zip"]
    assert ds.users.set_index("user_id").loc[1].tolist() == [24, "M", "technician", "85711"]
    toy = ds.items.set_index("item_id").loc[1]
    assert (toy["year"], toy["genres"]) == (1995, "Animation|Children's|Comedy")


@pytest.mark.parametrize("split", ["u1", "u2", "u3", "u4", "u5", "ua", "ub"])
def test_ml100k_official_splits(split):
    require_ml100k()
    ds = load_movielens("ml-100k")
    train, test = ds.official_split(split)
    key = ["user_id", "item_id"]
    assert len(train) + len(test) == 100_000
    assert train.merge(test, on=key).empty
    both = pd.concat([train, test]).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(both, ds.ratings.sort_values(key).reset_index(drop=True))
    if split.startswith("u") and split[1].isdigit():
        assert len(test) == 20_000
    else:
        assert test.groupby("user_id").size().eq(10).all()


def test_official_split_errors():
    ds = load_movielens("ml-latest-small")
    with pytest.raises(ValueError, match="has no official splits"):
        ds.official_split("u1")
    require_ml100k()
    with pytest.raises(ValueError, match="unknown split 'u9' for ml-100k: choose one of u1, u2"):
        load_movielens("ml-100k").official_split("u9")


# ---------------------------------------------------------------------------
# ml-1m: the genuine users/movies files, with ratings made to the published counts
# ---------------------------------------------------------------------------
ML1M_SOURCE = SHARED / "ml-1m-partial"


def ml1m_ratings_lines(n_ratings=1_000_209) -> tuple:
    """The first ``n_ratings`` (at least 6,040) lines of a plausible ratings.dat: every (user, movie) pair once,
    all 6,040 users of the genuine users.dat and 3,706 movies of its movies.dat rated, whole stars 1-5."""
    return _ml1m_lines()[:n_ratings]


@functools.lru_cache(maxsize=1)
def _ml1m_lines(n_ratings=1_000_209) -> tuple:
    movie_ids = np.array([int(line.split(b"::")[0]) for line in (ML1M_SOURCE / "movies.dat").read_bytes().splitlines()])
    rng = np.random.default_rng(0)
    rated = np.sort(rng.choice(movie_ids, 3_706, replace=False))
    grid = 6_040 * 3_706  # pair k is (user k // 3706 + 1, movie rated[k % 3706])
    cover = np.arange(6_040) * 3_706 + np.arange(6_040) % 3_706  # every user and every movie once
    rest = rng.choice(grid, n_ratings, replace=False)
    keys = np.r_[cover, rest[~np.isin(rest, cover)][: n_ratings - 6_040]]
    users, items = keys // 3_706 + 1, rated[keys % 3_706]
    ratings = rng.integers(1, 6, n_ratings)
    ts = rng.integers(956_703_932, 1_046_454_590, n_ratings)
    return tuple(f"{u}::{i}::{r}::{t}" for u, i, r, t in zip(users, items, ratings, ts))


@functools.lru_cache(maxsize=2)
def _joined(n_ratings) -> str:
    return "\n".join(ml1m_ratings_lines(n_ratings)) + "\n"


def _fake_ml1m(home: Path, n_ratings=1_000_209, lines=None):
    """An ml-1m folder in ``home``: the genuine movies.dat and users.dat, and ``lines`` (default:
    :func:`ml1m_ratings_lines`) as ratings.dat."""
    folder = home / "ml-1m"
    folder.mkdir(parents=True)
    if not (ML1M_SOURCE / "movies.dat").exists():
        pytest.skip(f"no ml-1m users/movies files at {ML1M_SOURCE}")
    for f in ("movies.dat", "users.dat"):
        shutil.copy(ML1M_SOURCE / f, folder / f)
    text = _joined(n_ratings) if lines is None else "\n".join(lines) + "\n"
    (folder / "ratings.dat").write_text(text)
    return folder


def test_ml1m_parses_latin1_titles_and_coded_user_fields(home):
    _fake_ml1m(home)
    ds = load_movielens("ml-1m")
    assert (len(ds.ratings), ds.n_users, ds.n_items, len(ds.items)) == (1_000_209, 6_040, 3_706, 3_883)
    titles = set(ds.items["title"])
    assert "Misérables, Les (1995)" in titles
    assert ds.items.set_index("item_id").loc[1].tolist() == ["Toy Story (1995)", 1995, "Animation|Children's|Comedy"]
    assert ds.users.set_index("user_id").loc[1].tolist() == [1, "F", "K-12 student", "48067"]
    assert ds.users.set_index("user_id").loc[2, "occupation"] == "self-employed"


def test_ml1m_count_mismatch_is_detected(home):
    _fake_ml1m(home, n_ratings=999_000)
    with pytest.raises(DatasetError, match=r"ml-1m at .* does not match its published counts: "
                                           r"ratings 999,000 \(published 1,000,209\)"):
        load_movielens("ml-1m")


# ---------------------------------------------------------------------------
# the large sets: same parsers, verified by their published counts
# ---------------------------------------------------------------------------
_ML10M = {"ratings.dat": "1::122::5::838985046\n2::185::3.5::838983525\n",
          "movies.dat": "122::Boomerang (1992)::Comedy|Romance\n185::Net, The (1995)::Action|Crime|Thriller\n"
                        "7::Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)::(no genres listed)\n"}
_ML20M = {"ratings.csv": "userId,movieId,rating,timestamp\n1,2,3.5,1112486027\n2,29,4.0,1112484676\n",
          "movies.csv": 'movieId,title,genres\n2,Jumanji (1995),Adventure\n'
                        '29,"City of Lost Children, The (Cité des enfants perdus, La) (1995)",Drama\n'}


@pytest.mark.parametrize("name, files, ratings, title, year, n_items", [
    ("ml-10m", _ML10M, [5.0, 3.5], "Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)", 2001, 3),
    ("ml-20m", _ML20M, [3.5, 4.0], "City of Lost Children, The (Cité des enfants perdus, La) (1995)", 1995, 2),
])
def test_large_sets_parse_and_check_counts(home, monkeypatch, name, files, ratings, title, year, n_items):
    spec = D.DATASETS[name]
    folder = home / spec.folder
    folder.mkdir()
    for f, text in files.items():
        (folder / f).write_text(text, encoding="utf-8")
    with pytest.raises(DatasetError, match=f"{name} at .* does not match its published counts: ratings 2 \\(published"):
        load_movielens(name)
    monkeypatch.setitem(D.DATASETS, name, D._Spec(**{**spec.__dict__, "counts": {
        "ratings": 2, "users": 2, "rated_items": 2, "items": n_items}}))
    ds = load_movielens(name)
    assert ds.ratings["rating"].tolist() == ratings
    assert ds.users is None
    assert ds.items.set_index("title").loc[title, "year"] == year
