"""What the tests do to a real RabbitMQ besides running the services against it."""

import pika


def take_all(url: str, queue: str) -> list[tuple[pika.BasicProperties, bytes]]:
    """Every message waiting in `queue`, taken off it (acknowledged)."""
    taken = []
    with pika.BlockingConnection(pika.URLParameters(url)) as conn:
        channel = conn.channel()
        while True:
            method, props, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                return taken
            taken.append((props, body))
