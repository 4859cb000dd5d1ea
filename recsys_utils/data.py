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
allows redistribution). ``ml-100k`` and ``ml-1m`` may not be redistributed:
they are downloaded from GroupLens on first use into the *data home* --
``$RECSYS_DATA_HOME`` if set, else ``data/`` -- and cached there as
``<data home>/<name>/``. ``$RECSYS_DATA_URL`` replaces the download address
(a mirror, or a local server in the tests).

Integrity
---------
Every file read is checked: against a pinned SHA-256 where GroupLens' files
are fixed (ml-latest-small, ml-100k), against the published counts otherwise
(ml-1m). Downloads go to a temporary file, are extracted to a temporary
folder (refusing members whose path would leave it), verified, and only then
renamed into place, so the cache never holds half a data set.
"""
from __future__ import annotations

import functools
import hashlib
import http.client
import io
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["load_movielens", "MovieLens", "DatasetError", "DATASETS", "data_home", "download"]

BASE_URL = "https://files.grouplens.org/datasets/movielens/"
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "data"


class DatasetError(RuntimeError):
    """A data set is missing, corrupt, or could not be fetched. The message says what to do."""


@dataclass(frozen=True)
class _Spec:
    folder: str
    archive: str
    checksums: dict = field(default_factory=dict)  # file -> sha256, where pinned
    required: tuple = ()  # files that must exist (whether or not pinned)
    counts: dict = field(default_factory=dict)  # published counts, checked on load
    splits: tuple = ()
    shipped: bool = False

    def files(self):
        return tuple(dict.fromkeys((*self.required, *self.checksums)))


_ML100K_SPLITS = ("u1", "u2", "u3", "u4", "u5", "ua", "ub")

DATASETS = {
    "ml-latest-small": _Spec(
        folder="ml-latest-small",
        archive="ml-latest-small.zip",
        checksums={
            "README.txt": "63d22ac138e80fae37021797ed8e1b9424b5239dc576a137422adf783ae3f404",
            "links.csv": "97ad18e4e56a09363c65676b6cb3482ce3e2cea2372a24620c1599c843325f31",
            "movies.csv": "5a5f32dd9bb3797b8e728a1b98958789d2b13f294a69fdfbc5727f8a9611aa07",
            "ratings.csv": "aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646",
            "tags.csv": "92a9f8bb7916dceef6151209845788c3643f794dfa79d1feaec7121b5960399d",
        },
        counts={"ratings": 100_836, "users": 610, "rated_items": 9_724, "items": 9_742},
        shipped=True,
    ),
    "ml-100k": _Spec(
        folder="ml-100k",
        archive="ml-100k.zip",
        checksums={
            "README": "4883b8cf340ed0059971b33f56ad3adc88a40792108ebca3d24aafc4c82e8b52",
            "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
            "u.genre": "9757e0d3e6b298159a80dd48eaf938114690e911e39af97a76949ef1663610bb",
            "u.info": "5b0a40b2e47a729ee6203063f6dcf8790c2e63f5a18663e6ee318a72c5f3c27b",
            "u.item": "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701",
            "u.occupation": "cd5fbec9afe345d993a62fc7817df1a4a9079c4feb267b3118763b8fd942137d",
            "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
            "u1.base": "ce253ec86c448b44fb3ba9a30d12dcfc2e9210cbde71efada3730c22e9ac212a",
            "u1.test": "18c6014a4b2c7324f250a63f8904a7b16b2b19f911129e346141507b0cbac950",
            "u2.base": "6c06f0b5df4b256da1a994f3ac66edc8da4d3f09bc9282df6b14d893366d703e",
            "u2.test": "4de658d1e04ed9104629509a2e2528fce833ac8e048280183f1df167632038c3",
            "u3.base": "afdc155c291c6edc41c0407e39d7462eb98d341e064f0b0a12175b80b3c4af5d",
            "u3.test": "0f548b51c78327de4c156461d3e430b7e5579fe2b5681586a59416e48fd35f6d",
            "u4.base": "219f0f4d40dfe9c5141d425f53fa91ee23ed275f14e280bbf1b50117afb064ca",
            "u4.test": "7c02ad0a1e7ab1083c8b9d4b627203a051dd7b5eab46d99fa44de33470de8db9",
            "u5.base": "a9574e59ce961eec2121627760b6e9b0974ce1637b3fe69ac32cb14a4bfab485",
            "u5.test": "351cc52e0d15b6c721466276fc24671d40936899e3d01fadeaf312915b8c5634",
            "ua.base": "67b5bcdb380c29f85d56a012ecd88612ae020f30a6730d117a334ee8203b91f2",
            "ua.test": "d0497e202417720f57a184ec8c66be2d1afa4ff41bb53787c57b28d6bf79bc42",
            "ub.base": "237254d253b6ad7de84f919d041055428646254f34ed8f562703c899430cd881",
            "ub.test": "d54a72d05730d5892062734b2bec73e976f9b713d18c828a18b968d6cce442da",
        },
        counts={"ratings": 100_000, "users": 943, "rated_items": 1_682, "items": 1_682},
        splits=_ML100K_SPLITS,
    ),
    "ml-1m": _Spec(
        folder="ml-1m",
        archive="ml-1m.zip",
        required=("ratings.dat", "movies.dat", "users.dat"),
        counts={"ratings": 1_000_209, "users": 6_040, "rated_items": 3_706, "items": 3_883},
    ),
    # The large sets (notebook 07). No users table. Counts: ratings and movies as in each README; users and
    # rated movies as found in ratings.* (ml-10m's README counts 71,567 users, taggers included).
    "ml-10m": _Spec(
        folder="ml-10M100K",
        archive="ml-10m.zip",
        required=("ratings.dat", "movies.dat"),
        counts={"ratings": 10_000_054, "users": 69_878, "rated_items": 10_677, "items": 10_681},
    ),
    "ml-20m": _Spec(
        folder="ml-20m",
        archive="ml-20m.zip",
        required=("ratings.csv", "movies.csv"),
        counts={"ratings": 20_000_263, "users": 138_493, "rated_items": 26_744, "items": 27_278},
    ),
    "ml-25m": _Spec(
        folder="ml-25m",
        archive="ml-25m.zip",
        required=("ratings.csv", "movies.csv"),
        counts={"ratings": 25_000_095, "users": 162_541, "rated_items": 59_047, "items": 62_423},
    ),
}

# ml-1m codes (from its README)
_ML1M_OCCUPATIONS = (
    "other", "academic/educator", "artist", "clerical/admin", "college/grad student",
    "customer service", "doctor/health care", "executive/managerial", "farmer", "homemaker",
    "K-12 student", "lawyer", "programmer", "retired", "sales/marketing", "scientist",
    "self-employed", "technician/engineer", "tradesman/craftsman", "unemployed", "writer",
)
_ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)
_YEAR = re.compile(r"\((\d{4})(?:\s*[-\u2013]\s*\d{0,4})?\)\s*$")


# --------------------------------------------------------------------------
# where data lives
# --------------------------------------------------------------------------
def data_home() -> Path:
    """The download cache: ``$RECSYS_DATA_HOME`` if set, else the repository's ``data/``."""
    env = os.environ.get("RECSYS_DATA_HOME")
    return Path(env).expanduser() if env else SHIPPED_DIR


def _spec(name: str) -> _Spec:
    if name not in DATASETS:
        raise ValueError(
            f"unknown data set {name!r}: choose one of {', '.join(map(repr, DATASETS))}"
        )
    return DATASETS[name]


def _fix_hint(name: str, folder: Path) -> str:
    if DATASETS[name].shipped and folder.parent == SHIPPED_DIR:
        return f"restore the shipped copy with 'git checkout -- data/{name}'"
    return f"delete the folder {folder} and load again to re-download it"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(name: str, folder: Path, filename: str) -> bytes:
    """Read one file of a data set and verify it (SHA-256 where pinned)."""
    path = folder / filename
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(
            f"{name} cache at {folder} is incomplete ({filename} is missing): {_fix_hint(name, folder)}"
        ) from None
    expected = DATASETS[name].checksums.get(filename)
    if expected is not None and _sha256(data) != expected:
        raise DatasetError(
            f"{path} failed its SHA-256 check (corrupt or truncated): {_fix_hint(name, folder)}"
        )
    return data


# --------------------------------------------------------------------------
# download
# --------------------------------------------------------------------------
def _url(spec: _Spec) -> str:
    base = os.environ.get("RECSYS_DATA_URL", BASE_URL)
    return base.rstrip("/") + "/" + spec.archive


def _offline_hint(name: str, home: Path) -> str:
    spec = DATASETS[name]
    return (
        f"fetch {_url(spec)} yourself and unzip it into {home} (so that {home / spec.folder} holds "
        f"{spec.files()[0]}), or set RECSYS_DATA_HOME to a folder that has it; "
        "'ml-latest-small' ships with the course and works offline"
    )


def _fetch(url: str, dest, timeout: float = 60.0) -> None:
    """Stream ``url`` into the open binary file ``dest``; detect truncation."""
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (http/https only)
        expected = resp.headers.get("Content-Length")
        n = 0
        while chunk := resp.read(1 << 20):
            dest.write(chunk)
            n += len(chunk)
    if expected is not None and n != int(expected):
        raise DatasetError(f"download of {url} stopped after {n} of {expected} bytes: try again")


def _safe_extract(zf: zipfile.ZipFile, target: Path) -> None:
    """Extract every member inside ``target``; refuse any path that would leave it."""
    root = target.resolve()
    for member in zf.infolist():
        dest = (root / member.filename).resolve()
        if dest != root and root not in dest.parents:
            raise DatasetError(
                f"archive member {member.filename!r} would be written outside {target}: "
                "the archive is not a genuine MovieLens file, delete it and download again"
            )
    zf.extractall(root)


def download(name: str, home: Path | str | None = None) -> Path:
    """Download and verify data set ``name`` into ``home``; return its folder.

    Nothing is left behind on failure: the archive and the extraction go to
    temporary names inside ``home`` and are renamed into place only once every
    file has passed its check.
    """
    spec = _spec(name)
    home = Path(home) if home is not None else data_home()
    target = home / spec.folder
    if target.exists():
        return target
    url = _url(spec)
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"cannot create the data home {home} ({exc.strerror}): set RECSYS_DATA_HOME to a writable folder") from None
    tmp_zip = tmp_dir = None
    try:
        with tempfile.NamedTemporaryFile(dir=home, prefix=f".{name}-", suffix=".zip.part", delete=False) as f:
            tmp_zip = Path(f.name)
            try:
                _fetch(url, f)
            except urllib.error.HTTPError as exc:
                raise DatasetError(
                    f"could not download {name}: the server answered {exc.code} {exc.reason} for {url}; "
                    + _offline_hint(name, home)
                ) from None
            except http.client.HTTPException as exc:
                raise DatasetError(
                    f"download of {url} was cut off ({type(exc).__name__}): try again, or " + _offline_hint(name, home)
                ) from None
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise DatasetError(
                    f"could not download {name} from {url} ({reason}); " + _offline_hint(name, home)
                ) from None
        tmp_dir = Path(tempfile.mkdtemp(dir=home, prefix=f".{name}-", suffix=".extract"))
        try:
            with zipfile.ZipFile(tmp_zip) as zf:
                _safe_extract(zf, tmp_dir)
        except (zipfile.BadZipFile, EOFError) as exc:
            raise DatasetError(
                f"the downloaded {spec.archive} is truncated or not a zip archive ({exc}): try again, "
                "or " + _offline_hint(name, home)
            ) from None
        extracted = tmp_dir / spec.folder
        if not extracted.is_dir():
            raise DatasetError(f"{spec.archive} has no folder {spec.folder}/: it is not the MovieLens archive; " + _offline_hint(name, home))
        for filename in spec.files():
            # raises DatasetError naming the bad file; the temporary folder is removed below
            try:
                _read(name, extracted, filename)
            except DatasetError:
                raise DatasetError(
                    f"{filename} in the downloaded {spec.archive} is missing or failed its check: "
                    "the download is corrupt, try again"
                ) from None
        os.replace(extracted, target)
        return target
    finally:
        if tmp_zip is not None:
            tmp_zip.unlink(missing_ok=True)
        if tmp_dir is not None:
            shutil.rmtree(tmp_dir, ignore_errors=True)


def _locate(name: str, download_if_missing: bool) -> Path:
    spec = DATASETS[name]
    home = data_home()
    candidates = [home / spec.folder]
    if spec.shipped:
        candidates.append(SHIPPED_DIR / spec.folder)
    for folder in candidates:
        if folder.is_dir():
            return folder
    if not download_if_missing:
        raise DatasetError(f"{name} is not in {home} and download_if_missing=False: " + _offline_hint(name, home))
    return download(name, home)


# --------------------------------------------------------------------------
# parsing
# --------------------------------------------------------------------------
def _year_from_title(titles: pd.Series) -> pd.Series:
    return titles.str.extract(_YEAR, expand=False).astype("Int64")


def _table(data: bytes, sep: str, names, encoding="utf-8", **kw) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), sep=sep, names=names, header=None, encoding=encoding, **kw)


def _ratings_frame(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": df["user_id"].astype(np.int64),
            "item_id": df["item_id"].astype(np.int64),
            "rating": df["rating"].astype(np.float64),
            "timestamp": df["timestamp"].astype(np.int64),
        }
    ).reset_index(drop=True)


_RATING_COLS = ["user_id", "item_id", "rating", "timestamp"]


def _text(data: bytes) -> str:
    """Decode UTF-8, or ISO-8859-1 for the older files (ml-100k's u.item, ml-1m's movies.dat)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _load_csv_set(name, folder):
    """ml-latest-small, ml-20m, ml-25m: ratings.csv and movies.csv with a header row."""
    ratings = pd.read_csv(io.BytesIO(_read(name, folder, "ratings.csv")))
    ratings.columns = _RATING_COLS
    movies = pd.read_csv(io.BytesIO(_read(name, folder, "movies.csv")))
    genres = movies["genres"].replace("(no genres listed)", "")
    items = pd.DataFrame(
        {"item_id": movies["movieId"], "title": movies["title"].str.strip(),
         "year": _year_from_title(movies["title"]), "genres": genres}
    )
    return _ratings_frame(ratings), items, None


def _ml100k_ratings(data: bytes) -> pd.DataFrame:
    return _ratings_frame(_table(data, "\t", _RATING_COLS))


def _load_100k(folder):
    ratings = _ml100k_ratings(_read("ml-100k", folder, "u.data"))
    genre_cols = [f"g{k}" for k in range(len(_ML100K_GENRES))]
    raw = _table(
        _read("ml-100k", folder, "u.item"), "|",
        ["item_id", "title", "release_date", "video_release_date", "url", *genre_cols],
        encoding="latin-1",
    )
    flags = raw[genre_cols].to_numpy(dtype=bool)
    names = np.array(_ML100K_GENRES, dtype=object)
    genres = ["|".join(names[row]) for row in flags]
    year = _year_from_title(raw["title"]).fillna(
        pd.to_datetime(raw["release_date"], format="%d-%b-%Y", errors="coerce").dt.year.astype("Int64")
    )
    items = pd.DataFrame({"item_id": raw["item_id"], "title": raw["title"], "year": year, "genres": genres})
    users = _table(_read("ml-100k", folder, "u.user"), "|", ["user_id", "age", "gender", "occupation", "zip"],
                   dtype={"zip": str})
    return ratings, items, users


def _load_dat_set(name, folder):
    """ml-1m and ml-10m: '::'-separated ratings.dat and movies.dat (ml-1m also users.dat)."""

    def dat(filename):
        return _read(name, folder, filename).replace(b"::", b"\t")

    ratings = _ratings_frame(_table(dat("ratings.dat"), "\t", _RATING_COLS))
    movies = pd.read_csv(io.StringIO(_text(dat("movies.dat"))), sep="\t", header=None,
                         names=["item_id", "title", "genres"], quoting=3)  # titles contain quotes
    genres = movies["genres"].replace("(no genres listed)", "")
    items = pd.DataFrame({"item_id": movies["item_id"], "title": movies["title"],
                          "year": _year_from_title(movies["title"]), "genres": genres})
    if "users.dat" not in DATASETS[name].required:
        return ratings, items, None
    users = _table(dat("users.dat"), "\t", ["user_id", "gender", "age", "occupation", "zip"], dtype={"zip": str})
    users["occupation"] = np.array(_ML1M_OCCUPATIONS, dtype=object)[users["occupation"].to_numpy()]
    return ratings, items, users[["user_id", "age", "gender", "occupation", "zip"]]


_LOADERS = {"ml-latest-small": functools.partial(_load_csv_set, "ml-latest-small"), "ml-100k": _load_100k,
            "ml-1m": functools.partial(_load_dat_set, "ml-1m"), "ml-10m": functools.partial(_load_dat_set, "ml-10m"),
            "ml-20m": functools.partial(_load_csv_set, "ml-20m"), "ml-25m": functools.partial(_load_csv_set, "ml-25m")}


def _check_counts(name, folder, ratings, items, users):
    want = DATASETS[name].counts
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
        raise DatasetError(f"{name} at {folder} does not match its published counts: {detail}; {_fix_hint(name, folder)}")


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
    """

    name: str
    ratings: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame | None
    path: Path

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
        return DATASETS[self.name].splits

    def official_split(self, split: str):
        """The published ``split`` as (train, test) tables, e.g. ``official_split("u1")``."""
        if not self.official_splits:
            raise ValueError(f"{self.name} has no official splits: use recsys_utils.splits.course_split")
        if split not in self.official_splits:
            raise ValueError(f"unknown split {split!r} for {self.name}: choose one of {', '.join(self.official_splits)}")
        return tuple(_ml100k_ratings(_read(self.name, self.path, f"{split}.{part}")) for part in ("base", "test"))

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
    _spec(name)
    folder = _locate(name, download_if_missing)
    ratings, items, users = _LOADERS[name](folder)
    _check_counts(name, folder, ratings, items, users)
    return MovieLens(name=name, ratings=ratings, items=items, users=users, path=folder)
