#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kalshiweb.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A configuration mistake is the operator's to fix: say what, not where in Django.
        sys.stderr.write(f"Configuration error: {exc}\n")
        sys.exit(2)
    except OperationalError as exc:
        # Most often the database is down or unreachable: ninety lines of driver traceback hide
        # the one line that says so. --traceback still shows them.
        if "--traceback" in sys.argv:
            raise
        sys.stderr.write(f"Database error ({_database_address()}): {exc}\n(Run with --traceback for details.)\n")
        sys.exit(3)


def _database_address() -> str:
    """Where the default database is, without its password."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if "sqlite" in str(db["ENGINE"]):
        return f"SQLite file {db['NAME']}"
    return f"{db.get('USER') or '?'}@{db.get('HOST') or 'localhost'}:{db.get('PORT') or 'default port'}/{db['NAME']}"


if __name__ == "__main__":
    main()
