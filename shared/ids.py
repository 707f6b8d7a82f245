"""Ids every service can derive on its own.

A unit of the organisation (district, street, community, grid, department) has the id
uuid5(UNIT_NAMESPACE, its code): routing creates units with it, and events name units by it,
so another service that knows a unit's code (from the demo data or a directory import) knows
its id without asking routing.
"""

import uuid

UNIT_NAMESPACE = uuid.UUID("6f1c3a52-8f0e-4f7e-9a55-0b6a8d1c2e11")


def unit_id(code: str) -> str:
    return str(uuid.uuid5(UNIT_NAMESPACE, code))
