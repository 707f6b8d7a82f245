"""Imports every payload module so that the registry is complete."""

from . import grid, identity, intake, mediation, notify, routing, selfgov  # noqa: F401
