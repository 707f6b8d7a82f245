"""Imports every payload module so that the registry is complete."""

from . import intake, routing  # noqa: F401
