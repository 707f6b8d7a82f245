"""What one service's configuration assumes of another's holds for the shipped data."""

import pytest

from services.intake import config as intake_config
from services.routing import config as routing_config


def test_every_clock_profile_intakes_catalogue_may_send_is_known_to_routing():
    sent = set(intake_config.get().clock_profiles)
    assert sent, "intake lists no clock profiles"
    assert sent <= routing_config.get().clocks.known_profile_names()


def test_selfgov_refuses_a_route_its_queue_is_not_bound_to_since_those_cases_would_never_arrive():
    from pydantic import ValidationError

    from services.selfgov.config import CaseMatters

    assert CaseMatters(routes=["consultation"]).routes == ["consultation"]
    with pytest.raises(ValidationError, match="route dispatch"):
        CaseMatters(routes=["consultation", "dispatch"])


def test_a_responsibility_rule_id_longer_than_a_work_order_keeps_is_refused():
    from pydantic import ValidationError

    from services.routing.config import Rule
    from services.routing.models import WorkOrder

    longest = "r" * 48
    assert len(f"rule:{longest}") <= WorkOrder.__table__.c.rule_id.type.length
    Rule(id=longest, category="*", reason="属地", unit_code="510107001001001")
    with pytest.raises(ValidationError):
        Rule(id=longest + "r", category="*", reason="属地", unit_code="510107001001001")


def test_a_resolutions_notice_holds_the_longest_matter_title_with_its_prefix():
    from services.selfgov.models import Notice
    from services.selfgov.schemas import MatterIn

    longest = MatterIn.model_fields["title"].metadata
    limit = next(m.max_length for m in longest if getattr(m, "max_length", None))
    assert len("议事决议公示：") + limit <= Notice.__table__.c.title.type.length


def _max_length(model, field: str) -> int:
    return next(m.max_length for m in model.model_fields[field].metadata if getattr(m, "max_length", None))


def test_every_clock_profile_name_a_case_may_carry_fits_every_column_that_keeps_one():
    """Intake's catalogue may name a profile of 40 characters; routing kept the case's in 20 (PostgreSQL
    refused the case, SQLite did not mind)."""
    from services.intake.models import Case
    from services.intake.schemas import Defaults, Node
    from services.routing.models import RoutingCase, WorkOrder
    from shared.events.intake import CLOCK_PROFILE_MAX_LENGTH

    requested = max(_max_length(Node, "clock_profile"), _max_length(Defaults, "clock_profile"))
    assert requested == CLOCK_PROFILE_MAX_LENGTH
    for column in (Case.__table__.c.clock_profile, RoutingCase.__table__.c.clock_profile,
                   WorkOrder.__table__.c.clock_profile):
        assert column.type.length >= CLOCK_PROFILE_MAX_LENGTH, column


def test_a_clock_profile_name_longer_than_a_case_keeps_is_refused_when_the_configuration_loads():
    from pydantic import ValidationError

    from services.routing.config import Clocks
    from shared.config import read_json
    from shared.events.intake import CLOCK_PROFILE_MAX_LENGTH

    policy = read_json(intake_config.DATA_DIR / "policy.json")
    longest = "p" * CLOCK_PROFILE_MAX_LENGTH
    intake_config.Policy.model_validate({**policy, "clock_profiles": [*policy["clock_profiles"], longest]})
    with pytest.raises(ValidationError, match=f"clock_profiles.{len(policy['clock_profiles'])}"):
        intake_config.Policy.model_validate({**policy, "clock_profiles": [*policy["clock_profiles"], longest + "p"]})

    clocks = read_json(routing_config.DEFAULT_DIR / "clocks.json")

    def own(name: str) -> dict:  # routing's own profile of that name
        return {**clocks, "profiles": {**clocks["profiles"], name: clocks["profiles"]["complex"]}}

    def mapped(name: str) -> dict:  # a name intake requests, mapped to one of routing's
        return {**clocks, "requested_profiles": {**clocks["requested_profiles"], name: "complex"}}

    Clocks.model_validate(own(longest))
    Clocks.model_validate(mapped(longest))
    with pytest.raises(ValidationError, match="profiles"):
        Clocks.model_validate(own(longest + "p"))
    with pytest.raises(ValidationError, match="requested_profiles"):
        Clocks.model_validate(mapped(longest + "p"))


def test_notify_keeps_every_unit_code_routing_keeps():
    """The organisation file routing imports (codes up to 32 characters) is notify's too; it kept 20."""
    import re

    from services.notify.models import Unit as NotifyUnit
    from services.routing.models import Unit as RoutingUnit

    longest = RoutingUnit.__table__.c.code.type.length
    assert re.fullmatch(routing_config.get().levels.code_pattern, "5" * longest)
    assert not re.fullmatch(routing_config.get().levels.code_pattern, "5" * (longest + 1))
    assert NotifyUnit.__table__.c.code.type.length >= longest


def test_every_service_keeps_every_unit_path_routings_events_may_carry():
    """Routing's dispatch events carry its units' paths; intake kept 300 characters, notify cut them to 300.
    The events now say how long a path may be, and every column that keeps one is as long."""
    from datetime import UTC, datetime

    from pydantic import ValidationError

    from services.grid.models import Grid
    from services.intake.models import Case, CaseUnit
    from services.notify.models import CaseFacts
    from services.routing.models import Unit
    from shared.events.routing import UNIT_PATH_MAX_LENGTH, CaseLocated

    for column in (Unit.__table__.c.path, Case.__table__.c.area_path, CaseUnit.__table__.c.unit_path,
                   CaseFacts.__table__.c.area_path, CaseFacts.__table__.c.unit_path, Grid.__table__.c.path):
        assert column.type.length >= UNIT_PATH_MAX_LENGTH, column
    at = datetime.now(UTC)
    CaseLocated(case_id="c1", area_path="/" + "5" * (UNIT_PATH_MAX_LENGTH - 1), at=at)
    with pytest.raises(ValidationError):
        CaseLocated(case_id="c1", area_path="/" + "5" * UNIT_PATH_MAX_LENGTH, at=at)


def test_every_actor_id_the_services_write_fits_the_audit_trail():
    """A user's id (identity's users.id), an API key's `key:<id>` (shared.deps) or an anonymous reporter's
    pseudonym; identity's `oidc:<provider>` is a user change's actor, never an audit trail's."""
    from sqlalchemy import MetaData

    from services.identity.models import ApiKey, User
    from shared.audit import AuditKeys, audit_table

    limit = audit_table(MetaData()).c.actor_id.type.length
    assert User.__table__.c.id.type.length <= limit
    assert len("key:") + ApiKey.__table__.c.id.type.length <= limit
    assert len(AuditKeys(b"k", b"k").pseudonym("u-" + "x" * 62, "case:x")) <= limit


def test_every_attachment_type_intake_accepts_is_one_it_stores_and_fits_its_column():
    """An accepted type is stored under its extension: any other (a spreadsheet's MIME type is 65
    characters) passed the type check and failed its storing with a 500."""
    from pydantic import ValidationError

    from services.intake.models import Attachment
    from shared.config import read_json

    column = Attachment.__table__.c.content_type.type.length
    assert all(len(t) <= column for t in intake_config.EXTENSIONS)
    rules = read_json(intake_config.DATA_DIR / "policy.json")["attachments"]
    intake_config.AttachmentRules.model_validate(rules)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    with pytest.raises(ValidationError, match="cannot store"):
        intake_config.AttachmentRules.model_validate({**rules, "document_types": {xlsx: "PK"}})
    with pytest.raises(ValidationError, match="cannot store"):
        intake_config.AttachmentRules.model_validate({**rules, "image_types": {"image/jpg": "JPEG"}})
