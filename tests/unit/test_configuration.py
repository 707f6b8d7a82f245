"""What one service's configuration assumes of another's holds for the shipped data."""

from services.intake import config as intake_config
from services.routing import config as routing_config


def test_every_clock_profile_intakes_catalogue_may_send_is_known_to_routing():
    sent = set(intake_config.get().clock_profiles)
    assert sent, "intake lists no clock profiles"
    assert sent <= routing_config.get().clocks.known_profile_names()
