"""Imports every payload module so that the registry is complete."""

from . import identity, intake, mediation, notify, routing  # noqa: F401
