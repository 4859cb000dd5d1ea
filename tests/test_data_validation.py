"""Sets without pinned hashes are checked for structure as well as counts (issue 13, case 1).

ml-1m: the genuine movies.dat and users.dat, a ratings.dat made to match them; the published
counts are made smaller (10,000 ratings) so each case is fast. ml-20m: a two-movie toy set.
"""
from __future__ import annotations

import dataclasses
import re
import time

import pytest
from test_data import ML1M_SOURCE, _fake_ml1m, ml1m_ratings_lines

from recsys_utils import data as D
from recsys_utils.data import DatasetError, load_movielens

N = 10_000


@pytest.fixture
def small_ml1m(tmp_path, monkeypatch):
    """Write an ml-1m folder whose ratings.dat is ``lines`` (edited), with counts for N ratings."""
    monkeypatch.setenv("RECSYS_DATA_HOME", str(tmp_path))
    spec = D.DATASETS["ml-1m"]
    monkeypatch.setitem(D.DATASETS, "ml-1m", dataclasses.replace(
        spec, counts={"ratings": N, "users": 6_040, "rated_items": 3_706, "items": 3_883}))

    def make(edit=None, tail="\n", users=None):
        lines = list(ml1m_ratings_lines(N))
        if edit:
            edit(lines)
        folder = _fake_ml1m(tmp_path, lines=lines)
        (folder / "ratings.dat").write_text("\n".join(lines) + tail)
        if users:
            text = (folder / "users.dat").read_text().splitlines()
            users(text)
            (folder / "users.dat").write_text("\n".join(text) + "\n")
        return folder

    return make


def test_small_ml1m_loads(small_ml1m):
    small_ml1m()
    ds = load_movielens("ml-1m")
    assert (len(ds.ratings), ds.n_users, ds.n_items) == (N, 6_040, 3_706)


def _set(line_no, field, value):
    """An edit putting ``value`` into ``field`` (0-3) of ratings.dat line ``line_no`` (1-based)."""
    def edit(lines):
        parts = lines[line_no - 1].split("::")
        parts[field] = value
        lines[line_no - 1] = "::".join(parts)
    return edit


@pytest.mark.parametrize("edit, problem", [
    (_set(17, 2, "7"), r"line 17: rating 7 is not on ml-1m's scale \(whole stars 1 to 5\)"),
    (_set(18, 2, "-3"), r"line 18: rating -3 is not on ml-1m's scale \(whole stars 1 to 5\)"),
    (_set(19, 2, "4.5"), r"line 19: rating 4\.5 is not on ml-1m's scale \(whole stars 1 to 5\)"),
    (_set(20, 2, "NaN"), "line 20: rating 'NaN' is not a number"),
    (_set(21, 2, ""), r"line 21: the rating is missing \(empty field or too few fields\)"),
    (_set(22, 2, "abc"), "line 22: rating 'abc' is not a number"),
    (_set(23, 0, "x1"), "line 23: user id 'x1' is not an integer"),
    (_set(24, 3, "97.5"), "line 24: timestamp 97.5 is not an integer"),
    (_set(25, 1, "99999"), "line 25: movie 99999 is not in movies.dat"),
    (_set(26, 0, "7000"), "line 26: user 7000 is not in users.dat"),
    (lambda lines: lines.__setitem__(9_000, "::".join(lines[9_000].split("::")[:3])),
     r"line 9001: the timestamp is missing \(empty field or too few fields\)"),
    (lambda lines: lines.__setitem__(30, lines[5]), r"line 31: user \d+ rates movie \d+ again \(first on line 6\)"),
    (lambda lines: lines.__setitem__(40, lines[40] + "::1"), "line 41: 5 fields where 4 are expected"),
    (lambda lines: lines.insert(50, ""), "line 51: the user id is missing"),
])
def test_bad_rating_lines_are_named(small_ml1m, edit, problem):
    folder = small_ml1m(edit)
    with pytest.raises(DatasetError) as info:
        load_movielens("ml-1m")
    msg = str(info.value)
    assert re.search(re.escape(f"{folder / 'ratings.dat'}, ") + problem, msg), msg
    assert msg.endswith(f"the file is corrupt or not the genuine one; delete the folder {folder} "
                        "and load again to re-download it")
    assert "\n" not in msg


def test_truncated_last_line(small_ml1m):
    small_ml1m(lambda lines: lines.__setitem__(-1, lines[-1].split("::")[0] + "::12"), tail="")
    with pytest.raises(DatasetError, match=f"ratings.dat, line {N}: the rating is missing"):
        load_movielens("ml-1m")


@pytest.mark.parametrize("line, field, value, problem", [
    (5, 3, "99", "line 5: occupation code 99 is not one of the published codes 0, 1, 2"),
    (6, 2, "30", "line 6: age code 30 is not one of the published codes 1, 18, 25, 35, 45, 50, 56"),
    (7, 1, "X", "line 7: gender 'X' is not one of M, F"),
    (8, 4, "", "line 8: the zip code is missing"),
    (9, 0, "1", r"line 9: user 1 is listed again \(first on line 1\)"),
])
def test_bad_user_codes_are_named(small_ml1m, line, field, value, problem):
    def users(text):
        parts = text[line - 1].split("::")
        parts[field] = value
        text[line - 1] = "::".join(parts)

    folder = small_ml1m(users=users)
    with pytest.raises(DatasetError, match=re.escape(f"{folder / 'users.dat'}, ") + problem):
        load_movielens("ml-1m")


def test_genuine_size_ml1m_loads_fast(tmp_path, monkeypatch):
    """1,000,209 ratings: parsing and every check together well under a few seconds."""
    if not (ML1M_SOURCE / "movies.dat").exists():
        pytest.skip(f"no ml-1m users/movies files at {ML1M_SOURCE}")
    monkeypatch.setenv("RECSYS_DATA_HOME", str(tmp_path))
    _fake_ml1m(tmp_path)
    start = time.perf_counter()
    ds = load_movielens("ml-1m")
    elapsed = time.perf_counter() - start
    assert len(ds.ratings) == 1_000_209
    assert elapsed < 4.0, f"{elapsed:.1f} s"


# ---------------------------------------------------------------------------
# the large sets share the code: half stars, and movies.csv
# ---------------------------------------------------------------------------
_MOVIES = 'movieId,title,genres\n2,Jumanji (1995),Adventure\n29,"City of Lost Children, The (1995)",Drama\n'


@pytest.fixture
def small_ml20m(tmp_path, monkeypatch):
    monkeypatch.setenv("RECSYS_DATA_HOME", str(tmp_path))
    spec = D.DATASETS["ml-20m"]
    monkeypatch.setitem(D.DATASETS, "ml-20m", dataclasses.replace(
        spec, counts={"ratings": 2, "users": 2, "rated_items": 2, "items": 2}))

    def make(ratings, movies=_MOVIES):
        folder = tmp_path / spec.folder
        folder.mkdir()
        (folder / "ratings.csv").write_text("userId,movieId,rating,timestamp\n" + ratings)
        (folder / "movies.csv").write_text(movies)
        return folder

    return make


@pytest.mark.parametrize("ratings, problem", [
    ("1,2,3.5,1112486027\n2,29,4.25,1112484676\n",
     r"ratings.csv, line 3: rating 4.25 is not on ml-20m's scale \(half stars 0.5 to 5\)"),
    ("1,2,0,1112486027\n2,29,4.0,1112484676\n", "ratings.csv, line 2: rating 0 is not on ml-20m's scale"),
    ("1,2,3.5,1112486027\n1,2,4.0,1112484676\n",
     r"ratings.csv, line 3: user 1 rates movie 2 again \(first on line 2\)"),
    ("1,2,3.5,1112486027\n2,29,4.0\n", "ratings.csv, line 3: the timestamp is missing"),
])
def test_half_star_sets_are_checked_too(small_ml20m, ratings, problem):
    small_ml20m(ratings)
    with pytest.raises(DatasetError, match=problem):
        load_movielens("ml-20m")


def test_half_star_set_loads(small_ml20m):
    small_ml20m("1,2,3.5,1112486027\n2,29,0.5,1112484676\n")
    assert load_movielens("ml-20m").ratings["rating"].tolist() == [3.5, 0.5]


def test_movies_file_checked(small_ml20m):
    small_ml20m("1,2,3.5,1112486027\n2,29,4.0,1112484676\n", movies=_MOVIES + "2,Jumanji again (1995),Drama\n")
    with pytest.raises(DatasetError, match=r"movies.csv, line 4: movie 2 is listed again \(first on line 2\)"):
        load_movielens("ml-20m")
