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
