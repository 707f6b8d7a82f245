"""No personal data in any log line: the main flows of every service driven in embedded mode with
distinctive phones, names, ID numbers and addresses, every log record of the process captured (at
DEBUG, tracebacks included), and each value searched for in all of it."""

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from services.cluster import wait_for
from services.embedded import Embedded
from shared import logs
from shared.auth import demo_token
from shared.config import get_settings
from shared.db import make_engine

PHONE_RESIDENT = "13977770101"
PHONE_CALLER = "13977770202"
PHONE_RESPONDENT = "13977770303"
PHONE_IN_TEXT = "13977770404"
ID_IN_TEXT = "510107199208083353"
ID_RESPONDENT = "510107198511116678"
NAME_RESPONDENT = "慕容雪晴"
NAME_STAFF = "欧阳知秋"
ADDRESS = "锦江区红星路二段99号7栋3单元"
SECRETS = [PHONE_RESIDENT, PHONE_CALLER, PHONE_RESPONDENT, PHONE_IN_TEXT, ID_IN_TEXT, ID_RESPONDENT,
           NAME_RESPONDENT, NAME_STAFF, ADDRESS, "7777-0101", "77770101"]
GRID_POINT = {"lat": 30.6283, "lon": 104.052115}


class Everything(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record):
        self.lines.append(self.format(record))  # format() adds the traceback of an exception too


@pytest.fixture
def captured():
    """Every record at DEBUG, with the process's logging as the services configure it (the client
    libraries that log whole URLs kept quiet, shared.logs.QUIET: the test's own HTTP client is one)."""
    root = logging.getLogger()
    handler, level = Everything(), root.level
    quiet = {name: logging.getLogger(name).level for name in logs.QUIET}
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in logs.QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_the_main_flows_leave_no_phone_name_id_number_or_address_in_any_log_line(tmp_path, captured):
    system = Embedded(get_settings(mode="embedded", var_dir=tmp_path))
    system.prepare()
    system.start()
    try:
        client = TestClient(system.asgi(), client=("127.0.0.1", 50000))
        s = system.settings
        # A resident signs in by SMS code.
        assert client.post("/identity/v1/sms-codes", json={"phone": PHONE_RESIDENT}).status_code == 202
        code = client.get("/identity/v1/dev/sms-codes", params={"phone": PHONE_RESIDENT}).json()["codes"][0]["code"]
        assert client.post("/identity/v1/tokens/sms", json={"phone": PHONE_RESIDENT, "code": "000000"}).status_code \
            == 401
        resident = bearer(client.post("/identity/v1/tokens/sms",
                                      json={"phone": PHONE_RESIDENT, "code": code}).json()["access_token"])
        # She reports, with personal data typed into the text and an address.
        r = client.post("/intake/v1/cases", headers=resident, json={
            "category": "env.garbage", "address": ADDRESS, **GRID_POINT, "coord_system": "wgs84",
            "description": f"楼下垃圾堆了三天，联系人电话{PHONE_IN_TEXT}，身份证{ID_IN_TEXT}"})
        assert r.status_code == 201, r.text
        case_id = r.json()["id"]
        # Bad input, so that the error paths log too.
        assert client.post("/intake/v1/cases", headers=resident,
                           json={"category": "env.garbage", "description": PHONE_IN_TEXT, "lat": 999}).status_code \
            == 422
        # An operator files a hotline case for a caller and looks the caller up.
        operator = bearer(demo_token(s, "operator"))
        hotline = client.post("/intake/v1/cases", headers=operator, json={
            "category": "env.garbage", "channel": "hotline", "caller_phone": PHONE_CALLER, "consent": True,
            "description": "来电反映小区门口垃圾未清运", **GRID_POINT, "coord_system": "wgs84"})
        assert hotline.status_code == 201, hotline.text
        assert client.post("/intake/v1/hotline/lookup", headers=operator, json={"phone": PHONE_CALLER}).status_code \
            == 200
        # She applies for mediation against a neighbour, named with phone, ID number and address.
        dispute = client.post("/mediation/v1/disputes", headers=resident, json={
            "dispute_type": "neighbour", "matter": "楼上邻居每晚装修到十一点，多次沟通无果。", **GRID_POINT,
            "coord_system": "wgs84",
            "parties": [{"role": "applicant", "name": "申请人"},
                        {"role": "respondent", "name": NAME_RESPONDENT, "phone": PHONE_RESPONDENT,
                         "id_number": ID_RESPONDENT, "address": ADDRESS}]})
        assert dispute.status_code == 201, dispute.text
        # Her SMS contact, and an admin adding a staff member by name.
        assert client.put("/notify/v1/me/contacts", headers=resident,
                          json={"phone": PHONE_RESIDENT}).status_code == 200
        admin = bearer(demo_token(s, "admin"))
        assert client.post("/identity/v1/users", headers=admin, json={
            "username": "ouyang.zq", "display_name": NAME_STAFF, "role": "grid_worker",
            "unit_codes": ["510107001001002"]}).status_code == 201
        assert client.post("/identity/v1/tokens/password",
                           json={"username": "ouyang.zq", "password": PHONE_RESIDENT}).status_code == 401
        # The workers carry it all: dispatch, notifications, the dispute's events.
        wait_for(lambda: client.get(f"/intake/v1/cases/{case_id}", headers=resident).json()["status"] == "dispatched",
                 what="dispatched")
        wait_for(lambda: client.get("/notify/v1/inbox", headers=resident).json(), what="told")
    finally:
        system.stop()
    # A statement that fails on the database, logged as an unexpected error would be.
    metadata = MetaData()
    people = Table("people", metadata, Column("id", Integer, primary_key=True), Column("phone", String(20)))
    engine = make_engine(f"sqlite:///{tmp_path / 'scratch.sqlite'}")
    metadata.create_all(engine)
    try:
        with engine.begin() as conn:
            conn.execute(insert(people), [{"id": 1, "phone": PHONE_RESPONDENT}, {"id": 1, "phone": PHONE_RESPONDENT}])
    except Exception:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    engine.dispose()

    text = "\n".join(captured.lines)
    # The scan saw the failed INSERT's traceback (with hide_parameters it names no value).
    assert any("IntegrityError" in line and "Traceback" in line for line in captured.lines)
    leaked = [secret for secret in SECRETS if secret in text]
    assert leaked == [], f"personal data in the logs: {leaked}"
