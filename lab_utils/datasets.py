"""MovieLens 100k: download once, verify by SHA-256, load as pandas DataFrames.

Used by Lab 3 (explicit feedback) and Lab 4 (implicit feedback).

Where the data lives, first match wins:

1. the ``data_home`` argument;
2. the environment variable ``LAB_UTILS_DATA_DIR``;
3. the per-user OS cache folder (``platformdirs.user_cache_dir("lab_utils")``);
   on Google Colab, ``data/`` in the working folder (``/content/data``, see
   :mod:`lab_utils.colab`).

That folder holds ``ml-100k/``, the extracted official archive.  A folder that already
holds a verified copy is only read, never written, so a read-only classroom folder
works.  When the copy is missing, the official ``ml-100k.zip`` is downloaded from
GroupLens (or from the course's mirror, ``$LAB_UTILS_MOVIELENS_URL``) with pooch
(progress bar, temporary file, atomic move), its SHA-256 checked,
and extracted through a temporary folder that is renamed into place only once every
file has been verified.  Nothing is written at import time.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from lab_utils.config import DATA_DIR_ENV, MOVIELENS_URL_ENV

#: Environment variable naming the data folder (the one that contains ``ml-100k/``).

#: Split names shipped inside ml-100k (``<name>.base`` / ``<name>.test``).
SPLITS = ("u1", "u2", "u3", "u4", "u5", "ua", "ub")


class DataError(RuntimeError):
    """Base class of every data-layer error: the message says what, where and what to do."""


class DataNotFoundError(DataError):
    """The data is not on disk and could not (or may not) be downloaded."""


class ChecksumError(DataError):
    """A file's SHA-256 differs from the registry: corrupt, truncated or not the genuine file."""


class LayoutError(DataError):
    """The data folder exists but is not laid out as expected."""


@dataclass(frozen=True)
class RemoteArchive:
    """A zip archive in the registry and the SHA-256 of every file it extracts to.

    Attributes
    ----------
    url : str
        Where to download the archive from.
    sha256 : str
        SHA-256 of the archive itself.
    size : int
        Size of the archive in bytes (informative; the hash is what is checked).
    folder : str
        Top-level folder inside the archive, and its name under the data home.
    files : dict
        File name inside ``folder`` -> SHA-256 hex digest.
    """

    url: str
    sha256: str
    size: int
    folder: str
    files: dict = field(default_factory=dict)

    @property
    def filename(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]


#: The official GroupLens release.  The per-file sums match ``ml-100k.SHA256SUMS``.
MOVIELENS_100K = RemoteArchive(
    url="https://files.grouplens.org/datasets/movielens/ml-100k.zip",
    sha256="50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
    size=4_924_029,
    folder="ml-100k",
    files={
        "README": "4883b8cf340ed0059971b33f56ad3adc88a40792108ebca3d24aafc4c82e8b52",
        "allbut.pl": "bfc6a75cbd65c74bb38a0b580dbe866af252733dfa9a65a2c4b93258774ee8a3",
        "mku.sh": "7929735c375e89a04340e34de621bf2ea643cd04b0bcda2c6f458e4be961ae71",
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
)

RATING_COLUMNS = ["user_id", "item_id", "rating", "timestamp"]
USER_COLUMNS = ["user_id", "age", "gender", "occupation", "zip_code"]

# Files whose hashes were already checked in this process: (path, size, mtime) -> True.
_VERIFIED: set[tuple[str, int, int]] = set()


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Return the data folder: argument, else ``$LAB_UTILS_DATA_DIR``, else the user cache.

    Nothing is created here.

    Parameters
    ----------
    data_home : path-like, optional
        Explicit folder; wins over the environment variable.

    Returns
    -------
    pathlib.Path
    """
    if data_home is not None:
        return Path(data_home).expanduser()
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("lab_utils"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _provision_hint(data_home: Path, archive: RemoteArchive) -> str:
    return (
        f"To use a copy you already have, put the extracted '{archive.folder}' folder inside "
        f"'{data_home}', or inside any folder you then name with {DATA_DIR_ENV}=<folder> "
        f"(or data_home=<folder>). On a machine with internet access, "
        f"'python -m lab_utils fetch' downloads and verifies it."
    )


def verify_folder(folder: Path, archive: RemoteArchive = MOVIELENS_100K, names=None) -> None:
    """Check that ``folder`` holds the archive's files with the registry's SHA-256.

    Parameters
    ----------
    folder : pathlib.Path
        The extracted folder (e.g. ``<data_home>/ml-100k``).
    archive : RemoteArchive
        Registry entry to check against.
    names : iterable of str, optional
        Only these files (default: every file of the archive).

    Raises
    ------
    LayoutError
        A file is missing.
    ChecksumError
        A file's content differs from the registry.
    """
    names = list(archive.files if names is None else names)
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise LayoutError(
            f"{folder} is not a complete '{archive.folder}' folder: missing "
            f"{', '.join(missing)}. Expected the extracted official archive "
            f"({archive.filename}) with its {len(archive.files)} files. "
            f"Re-extract it there, or delete '{folder}' and run 'python -m lab_utils fetch'."
        )
    for name in names:
        path = folder / name
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if key in _VERIFIED:
            continue
        actual = _sha256(path)
        expected = archive.files[name]
        if actual != expected:
            raise ChecksumError(
                f"{path}: SHA-256 expected {expected}, got {actual} ({stat.st_size} bytes). "
                f"The file is corrupt, truncated or not the genuine MovieLens file; it was "
                f"not used. Delete '{folder}' and run 'python -m lab_utils fetch' to download "
                f"a verified copy, or copy the folder again from a verified source."
            )
        _VERIFIED.add(key)


def _download_and_extract(data_home: Path, archive: RemoteArchive) -> Path:
    import pooch
    import requests

    try:
        data_home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataNotFoundError(
            f"No '{archive.folder}' folder in '{data_home}', and that folder cannot be created "
            f"to download into ({exc}). " + _provision_hint(data_home, archive)
        ) from exc
    try:
        zip_path = pooch.retrieve(
            archive.url,
            known_hash=f"sha256:{archive.sha256}" if archive.sha256 else None,
            fname=archive.filename,
            path=data_home,
            downloader=pooch.HTTPDownloader(progressbar=True, timeout=60),
        )
    except requests.exceptions.RequestException as exc:
        raise DataNotFoundError(
            f"No '{archive.folder}' folder in '{data_home}', and downloading {archive.url} "
            f"failed ({type(exc).__name__}: {exc}); nothing was saved. The machine is probably "
            f"offline or the server unreachable. " + _provision_hint(data_home, archive)
        ) from exc
    except ValueError as exc:  # pooch: hash mismatch; its temporary file is already removed
        raise ChecksumError(
            f"Downloaded {archive.url} but its SHA-256 does not match the registry "
            f"(expected {archive.sha256}): {exc} The partial file was discarded; try again "
            f"later (a truncated transfer or a proxy error page is the usual cause)."
        ) from exc

    # Extract beside the target, verify, then move into place in one rename.
    tmp = Path(tempfile.mkdtemp(prefix=f".{archive.folder}-", dir=data_home))
    try:
        try:
            with zipfile.ZipFile(zip_path) as zf:
                zf.extractall(tmp)
        except zipfile.BadZipFile as exc:
            Path(zip_path).unlink(missing_ok=True)
            raise ChecksumError(
                f"{zip_path} is not a valid zip archive ({exc}); it was deleted. Run the "
                f"command again to download it afresh."
            ) from exc
        verify_folder(tmp / archive.folder, archive)
        target = data_home / archive.folder
        try:
            os.rename(tmp / archive.folder, target)
        except OSError:
            if not target.is_dir():  # another process may have won the race
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return data_home / archive.folder


def _mirrored(archive: RemoteArchive) -> RemoteArchive:
    """The official archive, or the course's mirror named by ``$LAB_UTILS_MOVIELENS_URL``.

    A mirror may serve a repacked zip: its own hash is not pinned, but every file it
    extracts to is checked against the registry before it is used.
    """
    url = os.environ.get(MOVIELENS_URL_ENV)
    if url and archive is MOVIELENS_100K:
        return replace(archive, url=url, sha256="")
    return archive


def fetch_movielens_100k(
    data_home: str | os.PathLike | None = None,
    *,
    download_if_missing: bool = True,
    archive: RemoteArchive = MOVIELENS_100K,
    names=None,
) -> Path:
    """Return the verified ``ml-100k`` folder, downloading it first if needed.

    Used by Labs 3 and 4 (through the loaders) and by ``python -m lab_utils fetch``.

    Parameters
    ----------
    data_home : path-like, optional
        Folder that contains (or will contain) ``ml-100k/``.  See :func:`get_data_home`.
    download_if_missing : bool
        If False, raise :class:`DataNotFoundError` instead of downloading.
    archive : RemoteArchive
        Registry entry (override to use a mirror).
    names : iterable of str, optional
        Files to verify (default: all files of the archive).

    Returns
    -------
    pathlib.Path
        The folder holding ``u.data``, ``u.item``, ...

    Raises
    ------
    DataNotFoundError, ChecksumError, LayoutError
    """
    archive = _mirrored(archive)
    home = get_data_home(data_home)
    folder = home / archive.folder
    if folder.is_dir():
        verify_folder(folder, archive, names)
        return folder
    if folder.exists():
        raise LayoutError(f"'{folder}' exists but is not a folder. Remove it and try again.")
    if home.is_dir() and (home / "u.data").is_file():
        raise LayoutError(
            f"'{home}' looks like the '{archive.folder}' folder itself (it holds u.data), but "
            f"the data folder must *contain* '{archive.folder}/'. Point {DATA_DIR_ENV} or "
            f"data_home at '{home.parent}' instead."
        )
    if not download_if_missing:
        raise DataNotFoundError(
            f"No '{archive.folder}' folder in '{home}' and downloading is disabled. "
            + _provision_hint(home, archive)
        )
    # every file was verified in the temporary folder before the rename
    return _download_and_extract(home, archive)


@dataclass
class MovieLens100K:
    """MovieLens 100k as three DataFrames (Labs 3 and 4).

    Attributes
    ----------
    ratings : pandas.DataFrame
        ``user_id, item_id, rating, timestamp`` (100,000 rows).
    users : pandas.DataFrame
        ``user_id, age, gender, occupation, zip_code`` (943 rows).
    items : pandas.DataFrame
        ``item_id, title, release_date, imdb_url`` and one 0/1 column per genre (1,682 rows).
    genres : list of str
        The 19 genre names, in the order of ``u.genre``.
    path : pathlib.Path
        The verified folder the data was read from.
    """

    ratings: pd.DataFrame
    users: pd.DataFrame
    items: pd.DataFrame
    genres: list
    path: Path

    @property
    def num_users(self) -> int:
        return int(self.users["user_id"].max())

    @property
    def num_items(self) -> int:
        return int(self.items["item_id"].max())


def _read_ratings(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", names=RATING_COLUMNS, dtype="int64", engine="c")


def _read_genres(path: Path) -> list:
    genres = pd.read_csv(path, sep="|", names=["genre", "index"], encoding="latin-1")
    return list(genres.sort_values("index")["genre"])


def load_movielens_100k(
    data_home: str | os.PathLike | None = None, *, download_if_missing: bool = True
) -> MovieLens100K:
    """Load MovieLens 100k ratings, users and items (Labs 3 and 4).

    Parameters
    ----------
    data_home : path-like, optional
        See :func:`get_data_home`.
    download_if_missing : bool
        Download the official archive when no copy is found.

    Returns
    -------
    MovieLens100K
    """
    names = ["u.data", "u.user", "u.item", "u.genre"]
    folder = fetch_movielens_100k(data_home, download_if_missing=download_if_missing, names=names)
    ratings = _read_ratings(folder / "u.data")
    users = pd.read_csv(folder / "u.user", sep="|", names=USER_COLUMNS, encoding="latin-1")
    genres = _read_genres(folder / "u.genre")
    item_columns = ["item_id", "title", "release_date", "video_release_date", "imdb_url", *genres]
    items = pd.read_csv(folder / "u.item", sep="|", names=item_columns, encoding="latin-1")
    items = items.drop(columns="video_release_date")
    items["release_date"] = pd.to_datetime(items["release_date"], format="%d-%b-%Y")
    items[genres] = items[genres].astype("int8")
    return MovieLens100K(ratings=ratings, users=users, items=items, genres=genres, path=folder)


def load_movielens_100k_split(
    name: str = "u1",
    data_home: str | os.PathLike | None = None,
    *,
    download_if_missing: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Load one of the canonical train/test splits of MovieLens 100k (Labs 3 and 4).

    Parameters
    ----------
    name : {"u1", "u2", "u3", "u4", "u5", "ua", "ub"}
        ``u1``...``u5`` are the 80/20 five-fold splits; ``ua``/``ub`` hold out exactly
        10 ratings per user.
    data_home, download_if_missing
        As for :func:`load_movielens_100k`.

    Returns
    -------
    (train, test) : tuple of pandas.DataFrame
        Columns ``user_id, item_id, rating, timestamp``.
    """
    if name not in SPLITS:
        raise ValueError(f"split: expected one of {', '.join(SPLITS)}, got {name!r}")
    names = [f"{name}.base", f"{name}.test"]
    folder = fetch_movielens_100k(data_home, download_if_missing=download_if_missing, names=names)
    return _read_ratings(folder / f"{name}.base"), _read_ratings(folder / f"{name}.test")


__all__ = [
    "DATA_DIR_ENV",
    "MOVIELENS_100K",
    "SPLITS",
    "ChecksumError",
    "DataError",
    "DataNotFoundError",
    "LayoutError",
    "MovieLens100K",
    "RemoteArchive",
    "fetch_movielens_100k",
    "get_data_home",
    "load_movielens_100k",
    "load_movielens_100k_split",
    "verify_folder",
]
