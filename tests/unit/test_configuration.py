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
