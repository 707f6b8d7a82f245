"""psycopg parses a statement's placeholders anew for every execution of one over 50 parameters; the
engines keep those too (shared/db.py `_cursor_factory`), since every batch's multi-row INSERT is one."""

from sqlalchemy import Column, Integer, MetaData, Table, insert, select

from shared.db import CACHED_STATEMENT_CHARS, make_engine


def _table() -> Table:
    return Table("many", MetaData(), Column("id", Integer, primary_key=True),
                 *(Column(f"c{i}", Integer) for i in range(30)))


def test_a_multi_row_insert_of_hundreds_of_parameters_is_parsed_once_and_reused(pg_database):
    table = _table()
    engine = make_engine(pg_database)
    table.metadata.create_all(engine)
    with engine.connect() as conn:
        statements = conn.connection.dbapi_connection.cursor_factory.statements
        rows = [{"id": i, **{f"c{j}": i * j for j in range(30)}} for i in range(20)]  # 620 parameters
        before = statements.cache_info()
        for page in range(3):  # the same statement shape, other values: the page of the next batch
            stmt = insert(table).values([{**r, "id": r["id"] + 100 * page} for r in rows])
            conn.execute(stmt)
        after = statements.cache_info()
        assert after.misses - before.misses == 1 and after.hits - before.hits == 2
        assert conn.execute(select(table.c.c29).where(table.c.id == 219)).scalar_one() == 19 * 29  # values bound
        conn.rollback()
    engine.dispose()


def test_a_statement_longer_than_the_bound_is_not_kept(pg_database):
    engine = make_engine(pg_database)
    with engine.connect() as conn:
        statements = conn.connection.dbapi_connection.cursor_factory.statements
        before = statements.cache_info()
        long = "SELECT %(a)s::int + %(b)s::int" + " " * CACHED_STATEMENT_CHARS
        assert conn.exec_driver_sql(long, {"a": 1, "b": 2}).scalar_one() == 3
        assert statements.cache_info().currsize == before.currsize
    engine.dispose()
