"""Personal data encrypted at rest: a column type that seals on write and opens on read.

    phone: Mapped[str | None] = mapped_column(Sealed("intake.cases.reporter_phone"))

The stored text is `<key id>.<AES-GCM nonce+ciphertext>` (shared.keys.DataKeys), the column's name
bound in as associated data, so a value copied into another column does not open there. The keys
are the deployment's (CG_DATA_KEYS; embedded mode makes its own), installed once per process when a
runtime is built (`use_data_keys`): a type decorator has no other way to reach them. Rotation: put
the new key first in CG_DATA_KEYS (old ones stay after it, to open what they sealed) and run
`python -m shared.sealed reseal <service>`, which rewrites every value sealed with an older key.

Values cannot be searched once sealed: an exact lookup (the hotline's search by phone) goes
through a blind index column beside it (shared.keys.blind_index).
"""

import logging
import threading

from sqlalchemy import Text, literal, select, type_coerce, update
from sqlalchemy import text as text_clause
from sqlalchemy.types import TypeDecorator

from .keys import DataKeys

log = logging.getLogger(__name__)
_keys: DataKeys | None = None
_lock = threading.Lock()


def use_data_keys(keys: DataKeys) -> None:
    global _keys
    with _lock:
        _keys = keys


def data_keys_in_use() -> DataKeys:
    if _keys is None:
        raise RuntimeError("no data keys installed: build the service's runtime first")
    return _keys


class Sealed(TypeDecorator):
    impl = Text
    cache_ok = True

    def __init__(self, context: str):
        super().__init__()
        self.context = context

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return data_keys_in_use().seal(str(value), self.context)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return data_keys_in_use().open(value, self.context)


def sealed_columns(metadata) -> list[tuple]:
    """(table, column) of every sealed column of a service's tables."""
    return [(t, c) for t in metadata.sorted_tables for c in t.columns if isinstance(c.type, Sealed)]


def reseal(engine, metadata, batch: int = 500) -> dict[str, int]:
    """Seal again, with the current key, every value sealed with an older one; counts per column."""
    keys = data_keys_in_use()
    current = keys.current + "."
    done: dict[str, int] = {}
    for table, column in sealed_columns(metadata):
        stored = type_coerce(column, Text)  # the stored text itself, not opened by the type
        primary = list(table.primary_key.columns)
        n = 0
        while True:
            with engine.begin() as conn:
                rows = conn.execute(select(*primary, stored.label("stored"))
                                    .where(column.is_not(None), ~stored.startswith(current)).limit(batch)).all()
                for row in rows:
                    fresh = keys.seal(keys.open(row.stored, column.type.context), column.type.context)
                    conn.execute(update(table).where(*[c == row._mapping[c.name] for c in primary])
                                 .values({column.name: literal(fresh, Text)}))
            n += len(rows)
            if len(rows) < batch:
                break
        done[f"{table.name}.{column.name}"] = n
    return done


def main(argv: list[str] | None = None) -> None:
    import argparse
    import sys

    from services import spec
    from shared.config import get_settings

    parser = argparse.ArgumentParser(prog="python -m shared.sealed")
    sub = parser.add_subparsers(dest="command", required=True)
    again = sub.add_parser("reseal", help="seal every value of a service again with the current data key")
    again.add_argument("service")
    args = parser.parse_args(argv)
    service = spec(args.service)
    rt = service.runtime(get_settings())
    for column, n in reseal(rt.engine, service.metadata).items():
        sys.stdout.write(f"{column}: {n} sealed again\n")
    rt.dispose()


if __name__ == "__main__":
    main()


def seal_existing(connection, table: str, key_column: str, column: str, context: str) -> int:
    """For a migration that turns a plain column into a Sealed one: seal every value stored so far
    (a value that already looks sealed by one of the keys is left alone). The deployment's keys are
    read from its settings, as the services read them."""
    from .config import get_settings
    from .keys import data_keys

    keys = data_keys(get_settings())
    use_data_keys(keys)
    rows = connection.execute(text_clause(f"SELECT {key_column}, {column} FROM {table} WHERE {column} IS NOT NULL"))
    n = 0
    for key, value in rows.fetchall():
        try:
            keys.open(value, context)
            continue  # sealed already (a migration run twice)
        except Exception:  # noqa: BLE001 - any failure to open means: a plain value
            pass
        connection.execute(text_clause(f"UPDATE {table} SET {column} = :v WHERE {key_column} = :k"),
                           {"v": keys.seal(value, context), "k": key})
        n += 1
    return n
