import pytest

from shared.web import amqp_reachable


@pytest.mark.rabbitmq
def test_the_real_broker_answers_the_readiness_handshake(rabbitmq_url):
    assert amqp_reachable(rabbitmq_url)
