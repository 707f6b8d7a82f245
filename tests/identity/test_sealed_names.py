"""A person's name is sealed at rest (users.display_name: AES-GCM, a key id per value): nobody
reading the database file finds it, every reader of the API still does, and the migration seals
the names stored before it. Identity's migrations build exactly the schema its models describe."""

from datetime import datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from services.identity.models import User
from services.identity.service import SPEC
from shared.config import get_settings
from shared.db import make_engine
from shared.migrate import alembic_config, upgrade

from .staff import admin

NAME = "欧阳娜娜"  # nobody in the demo directory


def raw(settings) -> bytes:
    """The database file as anyone with a copy of it reads it (the WAL file too)."""
    return b"".join(p.read_bytes() for p in sorted(settings.var_dir.glob("identity.sqlite*")))


def test_no_demo_name_is_in_the_database_file(client, rt):
    made = client.post("/identity/v1/users", json={"username": "ouyang.nana", "display_name": NAME,
                                                   "role": "grid_worker", "unit_codes": ["510107001001001"]},
                       headers=admin(client))
    assert made.status_code == 201 and made.json()["display_name"] == NAME
    rt.dispose()  # the WAL checkpointed into the file
    stored = raw(rt.settings)
    for name in ("刘淑芬", "陈建国", "张伟", "王芳", "周丽", NAME):  # residents' and staff's
        assert name.encode() not in stored, name
    with rt.uow() as session:
        sealed = session.execute(text("SELECT display_name FROM users WHERE username = 'ouyang.nana'")).scalar()
        assert NAME not in sealed and sealed.split(".")[0] in rt.settings.var_dir.joinpath(
            "keys", "data-key.dev").read_text()  # "<key id>.<ciphertext>"
        assert session.scalar(select(User.display_name).where(User.username == "ouyang.nana")) == NAME


def test_readers_see_the_name(client):
    auth = admin(client)
    assert client.get("/identity/v1/users/u-grid-worker-001001", headers=auth).json()["display_name"] == "张伟"
    assert client.get("/identity/v1/me", headers=auth).json()["display_name"] is not None
    changed = client.patch("/identity/v1/users/u-grid-worker-001001", json={"display_name": NAME}, headers=auth)
    assert changed.status_code == 200 and changed.json()["display_name"] == NAME


def test_the_migration_seals_the_names_stored_before_it(tmp_path, monkeypatch):
    # The migration reads the deployment's keys from its settings, as the services do.
    monkeypatch.setenv("CG_VAR_DIR", str(tmp_path))
    settings = get_settings(mode="embedded", var_dir=tmp_path)
    url = settings.database_url("identity")
    upgrade("identity", url)
    command.downgrade(alembic_config("identity", url), "identity_0002")  # a database from before
    engine = make_engine(url)
    now = datetime(2026, 11, 1, 8, 0)
    with engine.begin() as conn:
        for n, name in enumerate((NAME, "诸葛明远", None), start=1):
            conn.execute(text("INSERT INTO users (id, kind, role, unit_codes, username, display_name, active, "
                              "failed_sign_ins, created_at, updated_at) VALUES (:id, 'staff', 'grid_worker', '[]', "
                              ":username, :name, 1, 0, :now, :now)"),
                         {"id": f"u-old-{n}", "username": f"old-{n}", "name": name, "now": now})
    engine.dispose()
    assert NAME.encode() in raw(settings)

    upgrade("identity", url)
    assert NAME.encode() not in raw(settings) and "诸葛明远".encode() not in raw(settings)
    rt = SPEC.runtime(settings)
    try:
        with rt.uow() as session:
            names = dict(session.execute(select(User.id, User.display_name).where(User.id.like("u-old-%"))).all())
        assert names == {"u-old-1": NAME, "u-old-2": "诸葛明远", "u-old-3": None}
    finally:
        rt.dispose()
    # Downgraded again, the names are plain as they were.
    command.downgrade(alembic_config("identity", url), "identity_0002")
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT display_name FROM users WHERE id = 'u-old-1'")).scalar() == NAME
    engine.dispose()


def test_migrations_match_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'identity.sqlite'}"
    upgrade("identity", url)
    engine = make_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": "alembic_version_identity"})
        diff = compare_metadata(context, SPEC.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ: write a migration for {diff}"
