"""Statuses: custom lead statuses of contacts. Deleting one in use is refused (D13)."""

from mockserver.handlers import named

named.register("statuses", ("name", "color"), "Status")
