"""The MovieLens data layer: figures, resolution order, verification, download, bad cases.

No test touches the internet: downloads are served from a zip built from the
provisioned files, over a loopback HTTP server.
"""

import hashlib
import http.server
import io
import os
import shutil
import subprocess
import sys
import threading
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from lab_utils import datasets


def test_counts_and_mean(movielens_home):
    data = datasets.load_movielens_100k(movielens_home)
    assert len(data.ratings) == 100_000
    assert data.ratings["user_id"].nunique() == 943 == len(data.users) == data.num_users
    assert data.ratings["item_id"].nunique() == 1682 == len(data.items) == data.num_items
    assert round(data.ratings["rating"].mean(), 5) == 3.52986
    assert list(data.ratings.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert list(data.users.columns) == ["user_id", "age", "gender", "occupation", "zip_code"]
    assert list(data.items.columns[:4]) == ["item_id", "title", "release_date", "imdb_url"]
    assert data.genres[0] == "unknown" and "Sci-Fi" in data.genres and len(data.genres) == 19
    assert list(data.items.columns[4:]) == data.genres
    # u.item is latin-1: a title with an accent survives
    assert data.items["title"].str.contains("é").any()
    assert data.items.loc[0, "title"] == "Toy Story (1995)"


@pytest.mark.parametrize("name", datasets.SPLITS)
def test_splits(movielens_home, name):
    train, test = datasets.load_movielens_100k_split(name, movielens_home)
    assert len(train) + len(test) == 100_000
    if name == "u1":
        assert (len(train), len(test)) == (80_000, 20_000)
    if name in ("ua", "ub"):
        assert (test.groupby("user_id").size() == 10).all()


def test_unknown_split(movielens_home):
    with pytest.raises(ValueError, match="u1, u2"):
        datasets.load_movielens_100k_split("u9", movielens_home)


def test_resolution_order(tmp_path, monkeypatch):
    monkeypatch.setenv(datasets.DATA_DIR_ENV, str(tmp_path / "env"))
    assert datasets.get_data_home(tmp_path / "arg") == tmp_path / "arg"
    assert datasets.get_data_home() == tmp_path / "env"
    monkeypatch.delenv(datasets.DATA_DIR_ENV)
    import platformdirs

    monkeypatch.setattr(platformdirs, "user_cache_dir", lambda app: str(tmp_path / "cache" / app))
    assert datasets.get_data_home() == tmp_path / "cache" / "lab_utils"
    assert not (tmp_path / "cache").exists()  # resolving creates nothing


def test_env_variable_is_used(movielens_home, monkeypatch):
    monkeypatch.setenv(datasets.DATA_DIR_ENV, str(movielens_home))
    assert datasets.fetch_movielens_100k() == movielens_home / "ml-100k"


def _copy_data(src_home: Path, dst_home: Path) -> Path:
    shutil.copytree(src_home / "ml-100k", dst_home / "ml-100k")
    return dst_home


def test_read_only_folder_is_accepted(movielens_home, tmp_path):
    home = _copy_data(movielens_home, tmp_path / "ro")
    for path in [home / "ml-100k", home]:
        path.chmod(0o555)
    try:
        before = sorted(p.name for p in (home).rglob("*"))
        data = datasets.load_movielens_100k(home, download_if_missing=False)
        assert len(data.ratings) == 100_000
        assert sorted(p.name for p in home.rglob("*")) == before
    finally:
        for path in [home, home / "ml-100k"]:
            path.chmod(0o755)


def test_corrupt_file_is_rejected(movielens_home, tmp_path):
    home = _copy_data(movielens_home, tmp_path)
    target = home / "ml-100k" / "u.data"
    target.write_bytes(target.read_bytes()[:-1000])  # truncated
    with pytest.raises(datasets.ChecksumError) as info:
        datasets.load_movielens_100k(home, download_if_missing=False)
    message = str(info.value)
    assert str(target) in message
    assert datasets.MOVIELENS_100K.files["u.data"] in message  # expected
    assert hashlib.sha256(target.read_bytes()).hexdigest() in message  # actual
    assert "python -m lab_utils fetch" in message  # what to do


def test_modified_file_is_detected_after_a_good_read(movielens_home, tmp_path):
    home = _copy_data(movielens_home, tmp_path)
    datasets.load_movielens_100k_split("u2", home)
    path = home / "ml-100k" / "u2.test"
    path.write_text(path.read_text().replace("\t5\t", "\t1\t", 1))
    with pytest.raises(datasets.ChecksumError, match="u2.test"):
        datasets.load_movielens_100k_split("u2", home)


def test_missing_file_is_a_layout_error(movielens_home, tmp_path):
    home = _copy_data(movielens_home, tmp_path)
    (home / "ml-100k" / "u.item").unlink()
    with pytest.raises(datasets.LayoutError, match="missing u.item"):
        datasets.load_movielens_100k(home)


def test_pointing_at_the_ml100k_folder_itself(movielens_home):
    with pytest.raises(datasets.LayoutError, match="must \\*contain\\*") as info:
        datasets.load_movielens_100k(movielens_home / "ml-100k")
    assert str(movielens_home) in str(info.value)


def test_no_data_and_no_download(tmp_path):
    with pytest.raises(datasets.DataNotFoundError) as info:
        datasets.load_movielens_100k(tmp_path, download_if_missing=False)
    assert datasets.DATA_DIR_ENV in str(info.value)
    assert list(tmp_path.iterdir()) == []


# --- downloads, served over loopback ------------------------------------------------


@pytest.fixture(scope="module")
def served_zip(movielens_home):
    """A zip of the provisioned files laid out like the official one."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(datasets.MOVIELENS_100K.files):
            zf.write(movielens_home / "ml-100k" / name, f"ml-100k/{name}")
    return buffer.getvalue()


class _Server:
    """Loopback HTTP server whose response body can be changed between requests."""

    def __init__(self, body: bytes):
        self.body = body
        self.requests = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                outer.requests += 1
                self.send_response(200)
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/ml-100k.zip"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(served_zip):
    srv = _Server(served_zip)
    yield srv
    srv.close()


def _archive_for(server, body: bytes) -> datasets.RemoteArchive:
    return replace(datasets.MOVIELENS_100K, url=server.url,
                   sha256=hashlib.sha256(body).hexdigest(), size=len(body))


def test_download_extract_verify(server, served_zip, tmp_path):
    archive = _archive_for(server, served_zip)
    home = tmp_path / "cache"
    folder = datasets.fetch_movielens_100k(home, archive=archive)
    assert folder == home / "ml-100k"
    assert sorted(p.name for p in folder.iterdir()) == sorted(archive.files)
    assert [p.name for p in home.iterdir() if p.name.startswith(".")] == []  # no temp left
    # a second call reads the verified copy: no new request
    requests = server.requests
    data = datasets.load_movielens_100k(home)
    assert len(data.ratings) == 100_000 and server.requests == requests


def test_truncated_download_leaves_nothing_and_next_call_recovers(server, served_zip, tmp_path):
    archive = _archive_for(server, served_zip)
    server.body = served_zip[: len(served_zip) // 2]
    home = tmp_path / "cache"
    with pytest.raises(datasets.ChecksumError, match="discarded"):
        datasets.fetch_movielens_100k(home, archive=archive)
    assert list(home.iterdir()) == []  # nothing half-written
    server.body = served_zip
    assert datasets.fetch_movielens_100k(home, archive=archive).is_dir()


def test_the_official_archive_is_pinned():
    archive = datasets.MOVIELENS_100K
    assert archive.url == "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
    assert archive.size == 4_924_029
    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "ml-100k.zip.sha256"
    if shared.is_file():
        assert shared.read_text().split()[0] == archive.sha256
    sums = shared.with_name("ml-100k.SHA256SUMS")
    if sums.is_file():
        listed = {name: digest for digest, name in map(str.split, sums.read_text().splitlines())}
        assert listed == archive.files


def test_offline_without_data(tmp_path):
    closed = replace(datasets.MOVIELENS_100K, url="http://127.0.0.1:9/ml-100k.zip")
    with pytest.raises(datasets.DataNotFoundError) as info:
        datasets.fetch_movielens_100k(tmp_path / "cache", archive=closed)
    message = str(info.value)
    assert "127.0.0.1:9" in message and datasets.DATA_DIR_ENV in message
    assert "offline" in message
    assert not (tmp_path / "cache" / "ml-100k").exists()


def _cli(*args, env_extra=None):
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "lab_utils", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_cli_fetch_verifies_provisioned_data(movielens_home):
    proc = _cli("fetch", "--data-home", str(movielens_home))
    assert proc.returncode == 0, proc.stderr
    assert "verified 23 files" in proc.stdout


def test_cli_fetch_offline_ok_prints_one_line(tmp_path):
    # No network here: the official URL cannot be reached, and --offline-ok carries on.
    proc = _cli("fetch", "--offline-ok", "--data-home", str(tmp_path))
    assert proc.returncode == 0
    assert len(proc.stdout.strip().splitlines()) == 1 and "carrying on" in proc.stdout
    proc = _cli("fetch", "--data-home", str(tmp_path))
    assert proc.returncode == 1 and "LAB_UTILS_DATA_DIR" in proc.stderr


def test_import_writes_nothing(tmp_path):
    env = {"HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "xdg"),
           "LAB_UTILS_DATA_DIR": ""}
    code = "import lab_utils, lab_utils.datasets, lab_utils.checks, lab_utils.metrics"
    proc = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, **env),
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert list(tmp_path.iterdir()) == []
