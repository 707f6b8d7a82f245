"""The configuration in data/: typed, validated when the runtime is built, replaceable by a deployment's copy."""

import json
import shutil

import pytest
from pydantic import ValidationError

from services.mediation import config
from services.mediation.config import DATA
from services.mediation.service import SPEC
from shared.config import get_settings

from .conftest import auth
from .helpers import MEDIATOR, accepted

BASE = "/mediation/v1/disputes"


@pytest.fixture
def own_data(tmp_path, monkeypatch):
    """A deployment's copy of the data folder, named by CG_MEDIATION_DATA_DIR."""
    folder = tmp_path / "mediation-data"
    shutil.copytree(DATA, folder)
    monkeypatch.setenv("CG_MEDIATION_DATA_DIR", str(folder))
    config.get.cache_clear()
    yield folder
    config.get.cache_clear()


def _edit(path, change) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_a_deployment_folder_replaces_the_shipped_configuration(own_data):
    _edit(own_data / "procedure.json", lambda d: d.update(term_days=45))
    assert config.get().procedure.term_days == 45
    assert config.get().routes_for("labour") == ["仲裁", "司法", "行政"]


@pytest.mark.parametrize("file, change", [
    ("procedure.json", lambda d: d.update(term_days="一个月")),
    ("procedure.json", lambda d: d.update(default_routes=["上访"])),
    ("procedure.json", lambda d: d.update(default_routes=["司法", "信访"])),  # not a route of 人民调解法 第二十六条
    ("risk.json", lambda d: d.update(force_extreme=["curses"])),
    ("mediators.json", lambda d: d[0].update(committee="TJW-NOWHERE")),
    ("dispute_types.json", lambda d: d.append(dict(d[0]))),
    ("committees.json", lambda d: d.update(streetcode=d.pop("street_code"))),
])
def test_a_broken_configuration_stops_start_up(own_data, tmp_path, file, change):
    _edit(own_data / file, change)
    with pytest.raises(ValidationError):
        SPEC.runtime(get_settings(mode="embedded", var_dir=tmp_path))


def test_a_dispute_of_a_type_since_removed_from_the_configuration_still_reads(client, rt, monkeypatch):
    d = accepted(client, rt, requested_mediator_id=MEDIATOR)
    shipped = config.get()
    types = {k: v for k, v in shipped.dispute_types.items() if k != "neighbour"}
    monkeypatch.setattr(config, "get", lambda: shipped.model_copy(update={"dispute_types": types}))
    r = client.get(f"{BASE}/{d['id']}", headers=auth(rt, MEDIATOR))
    assert r.status_code == 200 and r.json()["type_name"] == "neighbour"
    assert client.get(BASE, headers=auth(rt, MEDIATOR)).status_code == 200
