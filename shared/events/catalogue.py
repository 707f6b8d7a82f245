"""Imports every payload module so that the registry is complete."""

from . import intake, mediation, notify, routing  # noqa: F401
