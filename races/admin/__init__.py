"""The races back office, one module per area; importing them registers their pages."""

from . import jobs, participants, races  # noqa: F401
