"""MovieLens data sets: download once, verify every file, load into one shape.

>>> ds = load_movielens("ml-latest-small")        # ships with the course
>>> ds.ratings.columns.tolist()
['user_id', 'item_id', 'rating', 'timestamp']

Every variant gives the same object: ``ratings`` (``user_id, item_id, rating,
timestamp``), ``items`` (``item_id, title, year, genres``) and ``users``
(``user_id, age, gender, occupation, zip``, or ``None`` where the data set has
no users file).

Where files live
----------------
``ml-latest-small`` ships in the repository's ``data/`` folder (its licence
allows redistribution). The others may not be redistributed: they are
downloaded on first use into the *data home* -- ``$RECSYS_DATA_HOME`` if set,
else ``data/`` -- and cached there as ``<data home>/<folder>/``. Where they are
downloaded from, and how safely, is :mod:`recsys_utils.download`'s business.

One registry
------------
:data:`DATASETS` maps each name to its :class:`_Spec`: folder, archive, which
parser reads it, its files, published counts and rating scale. A name is
resolved to its spec once, in the public functions; everything below them
takes the spec. Adding a data set means adding one entry (and its hashes, if
known, to the ``SHA256SUMS`` file next to this module).

Integrity
---------
Every file read is checked. Files pinned in ``SHA256SUMS`` (ml-latest-small,
ml-100k: verified against genuine copies) must match their SHA-256. Every set
is also checked for structure -- each field present and of its type, ratings
on the published scale, no (user, movie) pair twice, every rated movie in the
movies file, users' codes in their published tables -- and for its published
counts. A failure names the file, the first bad line and the fix.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import download as _net
from .download import DatasetError

__all__ = ["load_movielens", "MovieLens", "DatasetError", "DATASETS", "data_home", "download"]

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "data"
CHECKSUMS_FILE = Path(__file__).with_name("SHA256SUMS")


# --------------------------------------------------------------------------
# the registry
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class _Spec:
    """Everything the code knows about one data set."""

    name: str
    folder: str  # its folder in the archive and in the data home
    archive: str  # file name on the mirrors
    kind: str  # which parser reads it: "csv", "ml-100k" or "dat" (see _PARSERS)
    counts: dict  # published counts, checked on load
    rating_scale: tuple  # (lowest, highest, step) as published
    required: tuple = ()  # files that must exist (whether or not pinned)
    optional: tuple = ()  # also extracted when the archive has them (README, scripts); never required
    splits: tuple = ()  # published train/test splits
    shipped: bool = False  # in the repository's data/ folder
    checksums: dict = field(default_factory=dict)  # file -> SHA-256, from SHA256SUMS
    archive_sha256: str | None = None  # the archive's SHA-256, from SHA256SUMS, where known

    def files(self) -> tuple:
        """Files the set must have: the required ones and every pinned one."""
        return tuple(dict.fromkeys((*self.required, *self.checksums)))

    def known_files(self) -> tuple:
        """Files extracted from the archive; any other member is left in it."""
        return tuple(dict.fromkeys((*self.files(), *self.optional)))

    @property
    def pinned(self) -> bool:
        """True when the bytes are pinned by SHA-256 (the archive, or every file read)."""
        return bool(self.archive_sha256) or bool(self.checksums) and set(self.required) <= set(self.checksums)


def _read_checksums(path: Path = CHECKSUMS_FILE) -> dict:
    """``SHA256SUMS`` (``sha256sum`` format) as {relative path: digest}."""
    table = {}
    for line in path.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            table[name.lstrip("*")] = digest
    return table


def _registry(*specs: dict) -> dict:
    """{name: _Spec}, with each set's hashes taken from ``SHA256SUMS``."""
    sums = _read_checksums()
    out = {}
    for kw in specs:
        prefix = kw["folder"] + "/"
        checksums = {p[len(prefix):]: h for p, h in sums.items() if p.startswith(prefix)}
        out[kw["name"]] = _Spec(**kw, checksums=checksums, archive_sha256=sums.get(kw["archive"]))
    return out


_WHOLE_STARS, _HALF_STARS = (1.0, 5.0, 1.0), (0.5, 5.0, 0.5)

DATASETS = _registry(
    dict(name="ml-latest-small", folder="ml-latest-small", archive="ml-latest-small.zip", kind="csv",
         counts={"ratings": 100_836, "users": 610, "rated_items": 9_724, "items": 9_742},
         rating_scale=_HALF_STARS, required=("ratings.csv", "movies.csv"), shipped=True),
    dict(name="ml-100k", folder="ml-100k", archive="ml-100k.zip", kind="ml-100k",
         counts={"ratings": 100_000, "users": 943, "rated_items": 1_682, "items": 1_682},
         rating_scale=_WHOLE_STARS, required=("u.data", "u.item", "u.user"), optional=("allbut.pl", "mku.sh"),
         splits=("u1", "u2", "u3", "u4", "u5", "ua", "ub")),
    dict(name="ml-1m", folder="ml-1m", archive="ml-1m.zip", kind="dat",
         counts={"ratings": 1_000_209, "users": 6_040, "rated_items": 3_706, "items": 3_883},
         rating_scale=_WHOLE_STARS, required=("ratings.dat", "movies.dat", "users.dat"), optional=("README",)),
    # The large sets (notebook 07). No users table. Counts: ratings and movies as in each README; users and
    # rated movies as found in ratings.* (ml-10m's README counts 71,567 users, taggers included).
    dict(name="ml-10m", folder="ml-10M100K", archive="ml-10m.zip", kind="dat",
         counts={"ratings": 10_000_054, "users": 69_878, "rated_items": 10_677, "items": 10_681},
         rating_scale=_HALF_STARS, required=("ratings.dat", "movies.dat"), optional=("README.html",)),
    dict(name="ml-20m", folder="ml-20m", archive="ml-20m.zip", kind="csv",
         counts={"ratings": 20_000_263, "users": 138_493, "rated_items": 26_744, "items": 27_278},
         rating_scale=_HALF_STARS, required=("ratings.csv", "movies.csv"), optional=("README.txt",)),
    dict(name="ml-25m", folder="ml-25m", archive="ml-25m.zip", kind="csv",
         counts={"ratings": 25_000_095, "users": 162_541, "rated_items": 59_047, "items": 62_423},
         rating_scale=_HALF_STARS, required=("ratings.csv", "movies.csv"), optional=("README.txt",)),
)

# ml-1m codes (from its README)
_ML1M_OCCUPATIONS = (
    "other", "academic/educator", "artist", "clerical/admin", "college/grad student",
    "customer service", "doctor/health care", "executive/managerial", "farmer", "homemaker",
    "K-12 student", "lawyer", "programmer", "retired", "sales/marketing", "scientist",
    "self-employed", "technician/engineer", "tradesman/craftsman", "unemployed", "writer",
)
_ML1M_AGES = (1, 18, 25, 35, 45, 50, 56)
_ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)
_YEAR = re.compile(r"\((\d{4})(?:\s*[-\u2013]\s*\d{0,4})?\)\s*$")


def _resolve(name: str) -> _Spec:
    """The spec of data set ``name`` -- the one place a name is looked up."""
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}: choose one of {', '.join(map(repr, DATASETS))}")
    return DATASETS[name]


# --------------------------------------------------------------------------
# where data lives; reading one file
# --------------------------------------------------------------------------
def data_home() -> Path:
    """The download cache: ``$RECSYS_DATA_HOME`` if set, else the repository's ``data/``."""
    env = os.environ.get("RECSYS_DATA_HOME")
    return Path(env).expanduser() if env else SHIPPED_DIR


def _fix_hint(spec: _Spec, folder: Path) -> str:
    if spec.shipped and folder.parent == SHIPPED_DIR:
        return f"restore the shipped copy with 'git checkout -- data/{spec.folder}'"
    return f"delete the folder {folder} and load again to re-download it"


class _BadFile(DatasetError):
    """A file of a data set failed a check. Besides the message: ``filename`` and ``problem``
    (what is wrong, in a few words), to re-word it for a fresh download."""

    def __init__(self, message: str, filename: str, problem: str):
        super().__init__(message)
        self.filename, self.problem = filename, problem


def _bad_line(spec, folder, filename, line, what) -> _BadFile:
    problem = f"line {line}: {what}"
    return _BadFile(f"{folder / filename}, {problem}: the file is corrupt or not the genuine one; "
                    f"{_fix_hint(spec, folder)}", filename, problem)


def _read(spec: _Spec, folder: Path, filename: str) -> bytes:
    """Read one file of a data set and verify it (SHA-256 where pinned)."""
    path = folder / filename
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise _BadFile(f"{spec.name} cache at {folder} is incomplete ({filename} is missing): "
                       f"{_fix_hint(spec, folder)}", filename, "is missing") from None
    except IsADirectoryError:
        raise _BadFile(f"{path} is a folder where a data file should be: {_fix_hint(spec, folder)}",
                       filename, "is a folder") from None
    except PermissionError:
        raise DatasetError(f"cannot read {path} (permission denied): make it readable, or set "
                           "RECSYS_DATA_HOME to a folder with a readable copy") from None
    expected = spec.checksums.get(filename)
    if expected is not None and hashlib.sha256(data).hexdigest() != expected:
        raise _BadFile(f"{path} failed its SHA-256 check (corrupt or truncated): {_fix_hint(spec, folder)}",
                       filename, "failed its SHA-256 check")
    return data


# --------------------------------------------------------------------------
# structure: every field present and of its type, codes in their tables
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class _Field:
    """One column's rule: ``kind`` is "int", "rating" or "text"; ``allowed`` a set of values."""

    column: str
    label: str
    kind: str = "int"
    low: float | None = None
    allowed: tuple | None = None


_RATING_FIELDS = (_Field("user_id", "user id", low=1), _Field("item_id", "movie id", low=1),
                  _Field("rating", "rating", "rating"), _Field("timestamp", "timestamp", low=0))
_MOVIE_FIELDS = (_Field("item_id", "movie id", low=1), _Field("title", "title", "text"),
                 _Field("genres", "genres", "text"))
_ML1M_USER_FIELDS = (_Field("user_id", "user id", low=1), _Field("gender", "gender", "text", allowed=("M", "F")),
                     _Field("age", "age code", allowed=_ML1M_AGES),
                     _Field("occupation", "occupation code", allowed=tuple(range(len(_ML1M_OCCUPATIONS)))),
                     _Field("zip", "zip code", "text"))
_ML100K_USER_FIELDS = (_Field("user_id", "user id", low=1), _Field("age", "age", low=1),
                       _Field("gender", "gender", "text", allowed=("M", "F")),
                       _Field("occupation", "occupation", "text"), _Field("zip", "zip code", "text"))


def _show(value) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)


def _field_rules(frame: pd.DataFrame, f: _Field, spec: _Spec) -> list:
    """(bad-row mask, row -> description) pairs for one column, most basic first."""
    col = frame[f.column]
    missing = col.isna().to_numpy()
    rules = [(missing, lambda r: f"the {f.label} is missing (empty field or too few fields)")]
    if f.kind == "text":
        if f.allowed is not None:
            rules.append((~missing & ~col.isin(f.allowed).to_numpy(),
                          lambda r: f"{f.label} {_show(col.iloc[r])} is not one of {', '.join(f.allowed)}"))
        return rules
    num = col if pd.api.types.is_numeric_dtype(col) else pd.to_numeric(col, errors="coerce")
    x = num.to_numpy(dtype=np.float64)
    kind = "an integer" if f.kind == "int" else "a number"
    rules.append((~missing & np.isnan(x), lambda r: f"{f.label} {_show(col.iloc[r])} is not {kind}"))
    if f.kind == "rating":
        low, high, step = spec.rating_scale
        off = ((x - low) / step) % 1 != 0
        stars = "whole stars" if step == 1 else "half stars"
        rules.append((~np.isnan(x) & ((x < low) | (x > high) | off),
                      lambda r: f"rating {_show(x[r])} is not on {spec.name}'s scale ({stars} {low:g} to {high:g})"))
        return rules
    if not pd.api.types.is_integer_dtype(num):
        rules.append((~np.isnan(x) & (x != np.floor(x)), lambda r: f"{f.label} {_show(x[r])} is not an integer"))
    if f.low is not None:
        rules.append((x < f.low, lambda r: f"{f.label} {_show(x[r])} is below {f.low}"))
    if f.allowed is not None:
        codes = ", ".join(map(str, f.allowed))
        rules.append((~np.isnan(x) & ~np.isin(x, f.allowed),
                      lambda r: f"{f.label} {_show(x[r])} is not one of the published codes {codes}"))
    return rules


def _first_failure(rules: list):
    """The earliest row any rule flags, with its description: ``(row, text)``, or None."""
    best = None
    for mask, describe in rules:
        hits = np.flatnonzero(mask)
        if hits.size and (best is None or hits[0] < best[0]):
            best = (int(hits[0]), describe)
    return None if best is None else (best[0], best[1](best[0]))


def _check_fields(spec, folder, filename, frame, fields, first_line) -> None:
    """Raise naming the first line where a field is missing, mistyped or outside its table."""
    rules = [rule for f in fields for rule in _field_rules(frame, f, spec)]
    failure = _first_failure(rules)
    if failure is not None:
        raise _bad_line(spec, folder, filename, failure[0] + first_line, failure[1])


def _check_unique(spec, folder, filename, key: np.ndarray, first_line, what) -> None:
    """Raise if a key repeats, naming the repeat's line and the first occurrence's."""
    dup = pd.Series(key).duplicated().to_numpy()
    if dup.any():
        row = int(np.argmax(dup))
        first = int(np.flatnonzero(key == key[row])[0])
        raise _bad_line(spec, folder, filename, row + first_line,
                        f"{what(row)} again (first on line {first + first_line})")


def _check_references(spec, folder, filename, ids: np.ndarray, known, first_line, what, where) -> None:
    """Raise if an id is not among ``known`` (the ids of another file)."""
    unknown = ~np.isin(ids, np.asarray(known))
    if unknown.any():
        row = int(np.argmax(unknown))
        raise _bad_line(spec, folder, filename, row + first_line, f"{what} {ids[row]} is not in {where}")


def _parse(spec, folder, filename, data, first_line, **kw) -> pd.DataFrame:
    """``pd.read_csv`` of one file; a parse failure becomes a DatasetError naming the line."""
    try:
        return pd.read_csv(data, skip_blank_lines=False, **kw)
    except pd.errors.EmptyDataError:
        raise _bad_line(spec, folder, filename, 1, "the file is empty") from None
    except (pd.errors.ParserError, ValueError) as exc:
        text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
        if m:
            raise _bad_line(spec, folder, filename, int(m[2]), f"{m[3]} fields where {m[1]} are expected") from None
        raise _bad_line(spec, folder, filename, first_line, f"cannot be parsed ({text})") from None


# --------------------------------------------------------------------------
# parsing: one function per kind of set
# --------------------------------------------------------------------------
_RATING_COLS = ["user_id", "item_id", "rating", "timestamp"]


def _year_from_title(titles: pd.Series) -> pd.Series:
    return titles.str.extract(_YEAR, expand=False).astype("Int64")


def _text(data: bytes) -> str:
    """Decode UTF-8, or ISO-8859-1 for the older files (ml-100k's u.item, ml-1m's movies.dat)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _ratings(spec, folder, filename, data: bytes, sep=",", header=False, movies=None, users=None) -> pd.DataFrame:
    """Parse and check a ratings file: fields, scale, no pair twice, known movies and users.

    ``movies`` and ``users``, where given, are ``(file name, ids)`` of the files every rating must refer to.
    """
    first = 2 if header else 1
    kw = {"header": 0} if header else {"header": None, "names": _RATING_COLS}
    # only an empty field is missing: 'NaN' or 'NA' in a ratings file is a bad value, reported as such
    df = _parse(spec, folder, filename, io.BytesIO(data), first, sep=sep, keep_default_na=False, na_values=[""], **kw)
    if header:
        if len(df.columns) != 4:
            raise _bad_line(spec, folder, filename, 1, f"{len(df.columns)} columns where 4 are expected")
        df.columns = _RATING_COLS
    _check_fields(spec, folder, filename, df, _RATING_FIELDS, first)
    user, item = df["user_id"].to_numpy(np.int64), df["item_id"].to_numpy(np.int64)
    _check_unique(spec, folder, filename, user * (int(item.max(initial=0)) + 1) + item, first,
                  lambda r: f"user {user[r]} rates movie {item[r]}")
    for what, ids, known in (("movie", item, movies), ("user", user, users)):
        if known is not None:
            _check_references(spec, folder, filename, ids, known[1], first, what, known[0])
    return pd.DataFrame(
        {
            "user_id": df["user_id"].astype(np.int64),
            "item_id": df["item_id"].astype(np.int64),
            "rating": df["rating"].astype(np.float64),
            "timestamp": df["timestamp"].astype(np.int64),
        }
    ).reset_index(drop=True)


def _checked_ids(spec, folder, filename, frame, fields, first_line, key_label) -> tuple:
    """Check a movies or users table (its fields, each id once); return ``(filename, ids)``."""
    _check_fields(spec, folder, filename, frame, fields, first_line)
    ids = frame[fields[0].column].to_numpy(np.int64)
    _check_unique(spec, folder, filename, ids, first_line, lambda r: f"{key_label} {ids[r]} is listed")
    return filename, ids


def _load_csv_set(spec, folder):
    """ml-latest-small, ml-20m, ml-25m: ratings.csv and movies.csv with a header row."""
    movies = _parse(spec, folder, "movies.csv", io.BytesIO(_read(spec, folder, "movies.csv")), 2)
    if list(movies.columns) != ["movieId", "title", "genres"]:
        raise _bad_line(spec, folder, "movies.csv", 1, "the header is not movieId,title,genres")
    known = _checked_ids(spec, folder, "movies.csv", movies.rename(columns={"movieId": "item_id"}),
                         _MOVIE_FIELDS, 2, "movie")
    ratings = _ratings(spec, folder, "ratings.csv", _read(spec, folder, "ratings.csv"), header=True, movies=known)
    genres = movies["genres"].replace("(no genres listed)", "")
    items = pd.DataFrame(
        {"item_id": movies["movieId"], "title": movies["title"].str.strip(),
         "year": _year_from_title(movies["title"]), "genres": genres}
    )
    return ratings, items, None


def _load_100k(spec, folder):
    """ml-100k: tab-separated u.data, '|'-separated u.item (genre flags) and u.user."""
    genre_cols = [f"g{k}" for k in range(len(_ML100K_GENRES))]
    raw = _parse(spec, folder, "u.item", io.BytesIO(_read(spec, folder, "u.item")), 1, sep="|", header=None,
                 names=["item_id", "title", "release_date", "video_release_date", "url", *genre_cols],
                 encoding="latin-1")
    known_movies = _checked_ids(spec, folder, "u.item", raw, _MOVIE_FIELDS[:2], 1, "movie")
    users = _parse(spec, folder, "u.user", io.BytesIO(_read(spec, folder, "u.user")), 1, sep="|", header=None,
                   names=["user_id", "age", "gender", "occupation", "zip"], dtype={"zip": str})
    known_users = _checked_ids(spec, folder, "u.user", users, _ML100K_USER_FIELDS, 1, "user")
    ratings = _ratings(spec, folder, "u.data", _read(spec, folder, "u.data"), sep="\t",
                       movies=known_movies, users=known_users)
    flags = raw[genre_cols].to_numpy(dtype=bool)
    names = np.array(_ML100K_GENRES, dtype=object)
    genres = ["|".join(names[row]) for row in flags]
    year = _year_from_title(raw["title"]).fillna(
        pd.to_datetime(raw["release_date"], format="%d-%b-%Y", errors="coerce").dt.year.astype("Int64")
    )
    items = pd.DataFrame({"item_id": raw["item_id"], "title": raw["title"], "year": year, "genres": genres})
    return ratings, items, users


def _load_dat_set(spec, folder):
    """ml-1m and ml-10m: '::'-separated ratings.dat and movies.dat (ml-1m also users.dat)."""

    def dat(filename):
        return _read(spec, folder, filename).replace(b"::", b"\t")

    movies = _parse(spec, folder, "movies.dat", io.StringIO(_text(dat("movies.dat"))), 1, sep="\t", header=None,
                    names=["item_id", "title", "genres"], quoting=3)  # titles contain quotes
    known_movies = _checked_ids(spec, folder, "movies.dat", movies, _MOVIE_FIELDS, 1, "movie")
    users = known_users = None
    if "users.dat" in spec.required:
        users = _parse(spec, folder, "users.dat", io.BytesIO(dat("users.dat")), 1, sep="\t", header=None,
                       names=["user_id", "gender", "age", "occupation", "zip"], dtype={"zip": str})
        known_users = _checked_ids(spec, folder, "users.dat", users, _ML1M_USER_FIELDS, 1, "user")
    ratings = _ratings(spec, folder, "ratings.dat", dat("ratings.dat"), sep="\t",
                       movies=known_movies, users=known_users)
    genres = movies["genres"].replace("(no genres listed)", "")
    items = pd.DataFrame({"item_id": movies["item_id"], "title": movies["title"],
                          "year": _year_from_title(movies["title"]), "genres": genres})
    if users is None:
        return ratings, items, None
    users["occupation"] = np.array(_ML1M_OCCUPATIONS, dtype=object)[users["occupation"].to_numpy()]
    return ratings, items, users[["user_id", "age", "gender", "occupation", "zip"]]


_PARSERS = {"csv": _load_csv_set, "ml-100k": _load_100k, "dat": _load_dat_set}


def _check_counts(spec, folder, ratings, items, users) -> None:
    want = spec.counts
    got = {
        "ratings": len(ratings),
        "users": ratings["user_id"].nunique(),
        "rated_items": ratings["item_id"].nunique(),
        "items": len(items),
    }
    if users is not None:
        got["user_rows"] = len(users)  # the users table must list every rater once
    diff = {k: (got[k], want[k if k in want else "users"]) for k in got
            if got[k] != want[k if k in want else "users"]}
    if diff:
        detail = ", ".join(f"{k} {g:,} (published {w:,})" for k, (g, w) in diff.items())
        raise _BadFile(f"{spec.name} at {folder} does not match its published counts: {detail}; "
                       f"{_fix_hint(spec, folder)}", spec.required[0], f"counts {detail}")


def _load_checked(spec: _Spec, folder: Path):
    """(ratings, items, users) of the set in ``folder``, every check passed."""
    ratings, items, users = _PARSERS[spec.kind](spec, folder)
    _check_counts(spec, folder, ratings, items, users)
    return ratings, items, users


# --------------------------------------------------------------------------
# finding or downloading a set
# --------------------------------------------------------------------------
def _verify_download(spec: _Spec):
    """The check a freshly extracted folder must pass: every pinned file, then a full load."""

    def verify(folder: Path):
        try:
            for filename in spec.files():
                _read(spec, folder, filename)
            return _load_checked(spec, folder)
        except _BadFile as exc:
            raise DatasetError(
                f"{exc.filename} in the downloaded {spec.archive} is missing or failed its check ({exc.problem}): "
                "the download is corrupt, try again or set RECSYS_DATA_URL to another mirror"
            ) from None

    return verify


def _not_a_folder(spec: _Spec, path: Path) -> DatasetError:
    return DatasetError(f"{path} is a file where the {spec.name} folder should be: move or delete it, "
                        f"then load again to download {spec.name}")


def _download(spec: _Spec, home: Path, deadline: float | None = None):
    """``(folder, frames or None)``: the set's folder in ``home``, downloading it if absent."""
    target = home / spec.folder
    if target.is_dir():
        return target, None
    if target.exists():
        raise _not_a_folder(spec, target)
    return _net.fetch(spec, home, _verify_download(spec), deadline)


def download(name: str, home: Path | str | None = None, *, deadline: float | None = None) -> Path:
    """Download and verify data set ``name`` into ``home``; return its folder.

    Nothing is left behind on failure: the archive and the extraction go to
    temporary names inside ``home`` and are renamed into place only once every
    file has passed its check. ``deadline`` (seconds) bounds the whole
    download; default ``$RECSYS_DOWNLOAD_TIMEOUT``, else 30 minutes.
    """
    spec = _resolve(name)
    return _download(spec, Path(home) if home is not None else data_home(), deadline)[0]


def _locate(spec: _Spec, download_if_missing: bool):
    """``(folder, frames or None)``: the cached copy, the shipped one, or a fresh download."""
    home = data_home()
    candidates = [home / spec.folder] + ([SHIPPED_DIR / spec.folder] if spec.shipped else [])
    for folder in candidates:
        if folder.is_dir():
            _net.clean_stale(home, spec)
            return folder, None
        if folder.exists():
            raise _not_a_folder(spec, folder)
    if not download_if_missing:
        raise DatasetError(f"{spec.name} is not in {home} and download_if_missing=False: "
                           + _net.offline_hint(spec, home))
    return _download(spec, home)


# --------------------------------------------------------------------------
# the object every notebook uses
# --------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class MovieLens:
    """One MovieLens data set, in the same shape for every variant.

    Attributes
    ----------
    name : str
    ratings : DataFrame ``user_id, item_id, rating, timestamp`` (original ids)
    items : DataFrame ``item_id, title, year, genres`` (every movie in the catalogue;
        ``genres`` is a ``|``-separated string, empty where none is listed)
    users : DataFrame ``user_id, age, gender, occupation, zip``, or None
    path : Path of the folder the files were read from
    spec : the data set's entry in :data:`DATASETS`
    """

    name: str
    ratings: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame | None
    path: Path
    spec: _Spec | None = field(default=None, compare=False)

    def _spec(self) -> _Spec:
        return self.spec if self.spec is not None else _resolve(self.name)

    @property
    def n_users(self) -> int:
        """Users with at least one rating."""
        return int(self.ratings["user_id"].nunique())

    @property
    def n_items(self) -> int:
        """Items with at least one rating."""
        return int(self.ratings["item_id"].nunique())

    @property
    def rating_scale(self) -> tuple:
        """(lowest, highest) rating in the data."""
        r = self.ratings["rating"]
        return float(r.min()), float(r.max())

    @property
    def official_splits(self) -> tuple:
        """Names of the published train/test splits (ml-100k: u1..u5, ua, ub)."""
        return self._spec().splits

    def official_split(self, split: str):
        """The published ``split`` as (train, test) tables, e.g. ``official_split("u1")``."""
        if not self.official_splits:
            raise ValueError(f"{self.name} has no official splits: use recsys_utils.splits.course_split")
        if split not in self.official_splits:
            raise ValueError(
                f"unknown split {split!r} for {self.name}: choose one of {', '.join(self.official_splits)}")
        spec = self._spec()
        return tuple(_ratings(spec, self.path, f"{split}.{part}", _read(spec, self.path, f"{split}.{part}"), sep="\t")
                     for part in ("base", "test"))

    def title(self, item_ids):
        """Titles of ``item_ids`` (a list, or one string for one id)."""
        titles = self.items.set_index("item_id")["title"]
        if np.ndim(item_ids) == 0:
            return titles[item_ids]
        return titles.reindex(np.asarray(item_ids)).tolist()

    def __repr__(self):
        users = "no users table" if self.users is None else f"users table with {len(self.users):,} rows"
        return (
            f"MovieLens({self.name!r}: {len(self.ratings):,} ratings, {self.n_users:,} users, "
            f"{self.n_items:,} rated items of {len(self.items):,}; {users})"
        )


def load_movielens(name: str = "ml-latest-small", *, download_if_missing: bool = True) -> MovieLens:
    """Load a MovieLens data set, downloading and verifying it on first use.

    Parameters
    ----------
    name : {"ml-latest-small", "ml-100k", "ml-1m", "ml-10m", "ml-20m", "ml-25m"}
        The last three are large (10 to 25 million ratings; notebook 07).
    download_if_missing : bool
        If False, raise instead of downloading.

    Raises
    ------
    ValueError
        Unknown ``name``.
    DatasetError
        Download failed, or a cached file is missing or corrupt (the message
        says how to fix it).
    """
    spec = _resolve(name)
    folder, frames = _locate(spec, download_if_missing)
    ratings, items, users = frames if frames is not None else _load_checked(spec, folder)
    return MovieLens(name=spec.name, ratings=ratings, items=items, users=users, path=folder, spec=spec)
