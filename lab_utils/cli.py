"""Command line: ``python -m lab_utils <command>`` (also installed as ``lab-utils``).

``fetch`` pre-downloads and verifies every dataset the labs use: what ``make lab`` runs
and what an instructor runs when building a JupyterHub image.
"""

from __future__ import annotations

import argparse
import sys

from lab_utils import datasets


def _fetch(args: argparse.Namespace) -> int:
    try:
        folder = datasets.fetch_movielens_100k(args.data_home)
    except datasets.DataError as exc:
        if args.offline_ok and isinstance(exc, datasets.DataNotFoundError):
            cause = type(exc.__cause__).__name__ if exc.__cause__ else "download disabled"
            print(f"lab_utils fetch: offline? MovieLens 100k not downloaded ({cause}); "
                  f"carrying on. Labs 3-4 need it: see README, 'Data without internet'.")
            return 0
        print(f"lab_utils fetch: {exc}", file=sys.stderr)
        return 1
    print(f"MovieLens 100k: verified {len(datasets.MOVIELENS_100K.files)} files in {folder}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lab_utils", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    fetch = sub.add_parser("fetch", help="download and verify every dataset the labs use")
    fetch.add_argument(
        "--data-home",
        default=None,
        help=f"folder that holds ml-100k/ (default: ${datasets.DATA_DIR_ENV}, else the user cache)",
    )
    fetch.add_argument(
        "--offline-ok",
        action="store_true",
        help="if the data cannot be downloaded, print a one-line notice and exit 0",
    )
    fetch.set_defaults(func=_fetch)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
