"""``python -m benchmarks [--quick] [--only NAME] [--database-url URL]``."""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import shutil
import sys
import tempfile
import time
from collections.abc import Callable

import benchmarks


def discover() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_"))


def setup_django(database_url: str | None) -> Callable[[], None]:
    """Set Django up on a disposable, migrated database; returns its clean-up.

    The temporary data directory (it holds generated keys) goes with the
    clean-up, or at once if set-up fails.
    """
    data_dir = tempfile.mkdtemp(prefix="kalshiweb-bench-")
    try:
        database_clean_up = _setup_database(data_dir, database_url)
    except BaseException:
        shutil.rmtree(data_dir, ignore_errors=True)
        raise

    def clean_up() -> None:
        try:
            database_clean_up()
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)

    return clean_up


def _setup_database(data_dir: str, database_url: str | None) -> Callable[[], None]:
    os.environ["KALSHIWEB_DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kalshiweb.settings")
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    # Pages link static files by hashed name from collectstatic's manifest, as in production (DEBUG off).
    call_command("collectstatic", interactive=False, verbosity=0)
    if connection.vendor == "sqlite":
        call_command("migrate", verbosity=0, interactive=False)  # a file in the temporary data dir
        return lambda: None
    # A server database: benchmark in a throwaway test_<name> database, never the named one.
    original = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return lambda: connection.creation.destroy_test_db(original, verbosity=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", action="append", default=[], help="run only this benchmark (repeatable)")
    parser.add_argument("--database-url", help="benchmark against this database (it must be empty and disposable)")
    parser.add_argument(
        "--skip-unreachable",
        action="store_true",
        help="if the --database-url server cannot be reached, say so and exit 0 (make bench uses it)",
    )
    args = parser.parse_args(argv)

    names = [n for n in discover() if not args.only or n.removeprefix("bench_") in args.only or n in args.only]
    if not names:
        print(f"No benchmark matches {args.only}; available: {', '.join(discover())}")
        return 2
    try:
        clean_up = setup_django(args.database_url)
    except Exception as exc:  # an unreachable server must not hide the other figures
        print(f"Cannot benchmark on {args.database_url}: {exc.__class__.__name__}: {exc}".splitlines()[0])
        return 0 if args.skip_unreachable and _unreachable(exc) else 1
    from django.db import connection

    from benchmarks import Skip

    sizes = "quick" if args.quick else "full"
    print(f"kalshiweb benchmarks on {connection.vendor} ({sizes} sizes), Python {sys.version.split()[0]}")
    try:
        for name in names:
            module = importlib.import_module(f"benchmarks.{name}")
            started = time.perf_counter()
            try:
                figures = module.run(quick=args.quick)
            except Skip as skip:
                print(f"\n{name.removeprefix('bench_')}  skipped: {skip}")
                continue
            print(f"\n{name.removeprefix('bench_')}  ({time.perf_counter() - started:.1f}s)")
            for figure in figures:
                note = f"  {figure.note}" if figure.note else ""
                print(f"  {figure.name:<44} {figure.value:>14,.2f} {figure.unit}{note}")
    finally:
        clean_up()
    return 0


def _unreachable(exc: Exception) -> bool:
    """Whether set-up failed for want of a server (not, say, a broken migration)."""
    from django.db import OperationalError

    return isinstance(exc, OperationalError)


if __name__ == "__main__":
    sys.exit(main())
