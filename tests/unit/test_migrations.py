"""Each service's migrations build exactly the schema its models describe."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services import spec
from shared.config import SERVICES
from shared.db import make_engine
from shared.migrate import upgrade


@pytest.mark.parametrize("name", SERVICES)
def test_migrations_match_the_models(tmp_path, name):
    url = f"sqlite:///{tmp_path / f'{name}.sqlite'}"
    upgrade(name, url)
    engine = make_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": f"alembic_version_{name}"})
        diff = compare_metadata(context, spec(name).metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ: write a migration for {diff}"
