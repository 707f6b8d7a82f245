"""Personal data encrypted at rest: sealed on write, opened on read, rotated without loss."""

import os

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text, type_coerce
from sqlalchemy.types import Text

from shared.db import make_engine
from shared.keys import DataKeys
from shared.sealed import Sealed, reseal, use_data_keys

metadata = MetaData()
people = Table("people", metadata, Column("id", Integer, primary_key=True),
               Column("phone", Sealed("test.people.phone")), Column("address", Sealed("test.people.address")))


def key() -> bytes:
    return os.urandom(32)


@pytest.fixture
def db(tmp_path):
    old, new = ("k1", key()), ("k2", key())
    use_data_keys(DataKeys([old]))
    engine = make_engine(f"sqlite:///{tmp_path / 'p.sqlite'}")
    metadata.create_all(engine)
    yield engine, old, new, tmp_path / "p.sqlite"
    engine.dispose()


def test_a_sealed_value_reads_back_and_is_not_in_the_database_file(db):
    engine, *_, path = db
    with engine.begin() as conn:
        conn.execute(insert(people), [{"id": 1, "phone": "+8613912345678", "address": "玉林北路5号3栋2单元"},
                                      {"id": 2, "phone": None, "address": None}])
    with engine.connect() as conn:
        assert conn.execute(select(people.c.phone, people.c.address).where(people.c.id == 1)).one() == (
            "+8613912345678", "玉林北路5号3栋2单元")
        assert conn.execute(select(people.c.phone).where(people.c.id == 2)).scalar() is None
        stored = conn.execute(text("SELECT phone FROM people WHERE id = 1")).scalar()
    assert stored.startswith("k1.") and "13912345678" not in stored
    engine.dispose()
    raw = path.read_bytes() + (path.with_name(path.name + "-wal").read_bytes()
                               if path.with_name(path.name + "-wal").exists() else b"")
    assert b"13912345678" not in raw and "玉林北路".encode() not in raw


def test_a_value_moved_to_another_column_does_not_open_there(db):
    engine, *_ = db
    with engine.begin() as conn:
        conn.execute(insert(people).values(id=1, phone="+8613912345678"))
        stored = conn.execute(select(type_coerce(people.c.phone, Text))).scalar()
        conn.execute(people.update().values(address=type_coerce(stored, Text)))
    with pytest.raises(InvalidTag), engine.connect() as conn:
        conn.execute(select(people.c.address)).scalar()


def test_rotation_seals_everything_again_with_the_new_key_and_loses_nothing(db):
    engine, old, new, _ = db
    with engine.begin() as conn:
        conn.execute(insert(people), [{"id": i, "phone": f"+86139000000{i:02d}"} for i in range(1, 8)])
    use_data_keys(DataKeys([new, old]))  # the new key first: it seals; the old one still opens
    assert reseal(engine, metadata, batch=3) == {"people.phone": 7, "people.address": 0}
    with engine.connect() as conn:
        assert {r[0][:3] for r in conn.execute(text("SELECT phone FROM people"))} == {"k2."}
    use_data_keys(DataKeys([new]))  # the old key retired
    with engine.connect() as conn:
        assert conn.execute(select(people.c.phone).where(people.c.id == 7)).scalar() == "+8613900000007"
    assert reseal(engine, metadata) == {"people.phone": 0, "people.address": 0}
