"""Key the trade tape by (market, trade id), with no other index and no database foreign key.

Django cannot alter a table into a composite primary key, so the old table is
renamed aside, the new one created, the prints copied across and the old
table dropped. Reversible the same way. On PostgreSQL the trade id keeps its
byte ("C") collation (see 0002).
"""

from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models

COLUMNS = "trade_id, market_id, count, yes_price, no_price, taker_side, created_time"


def copy_forward(apps, schema_editor):
    _copy(schema_editor, source="markets_legacytrade", target="markets_trade")


def copy_backward(apps, schema_editor):
    _copy(schema_editor, source="markets_trade", target="markets_legacytrade")


def _copy(schema_editor, *, source: str, target: str) -> None:
    quote = schema_editor.quote_name
    # A (market, trade id) pair can only repeat if a trade id moved market, which the old
    # key forbade; going back, the old key (trade id) is unique per the same argument.
    schema_editor.execute(
        f"INSERT INTO {quote(target)} ({COLUMNS}) SELECT {COLUMNS} FROM {quote(source)}"  # noqa: S608 - fixed names
    )


def byte_collation(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('ALTER TABLE "markets_trade" ALTER COLUMN "trade_id" TYPE varchar(64) COLLATE "C"')


class Migration(migrations.Migration):
    dependencies = [("markets", "0003_event_settlement_truth")]

    operations = [
        migrations.RemoveIndex(model_name="trade", name="trade_market_time"),
        migrations.RenameModel(old_name="Trade", new_name="LegacyTrade"),
        migrations.CreateModel(
            name="Trade",
            fields=[
                ("pk", models.CompositePrimaryKey("market", "trade_id", blank=True, editable=False, serialize=False)),
                (
                    "market",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="trades",
                        to="markets.market",
                    ),
                ),
                ("trade_id", models.CharField(max_length=64)),
                ("count", models.DecimalField(decimal_places=2, max_digits=14)),
                ("yes_price", models.DecimalField(decimal_places=6, max_digits=8)),
                ("no_price", models.DecimalField(decimal_places=6, max_digits=8)),
                ("taker_side", models.CharField(choices=[("yes", "Yes"), ("no", "No")], max_length=3)),
                ("created_time", models.DateTimeField()),
            ],
            options={"ordering": ["market", "created_time"]},
        ),
        migrations.RunPython(byte_collation, migrations.RunPython.noop),
        migrations.RunPython(copy_forward, copy_backward),
        migrations.DeleteModel(name="LegacyTrade"),
    ]
