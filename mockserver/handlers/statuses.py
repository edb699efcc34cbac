"""Statuses: custom lead statuses of contacts. Deleting one in use is refused (D13)."""

from mockserver.handlers import named

HANDLERS = named.handlers(
    "statuses",
    ("name", "color"),
    list_id="listStatuses",
    create_id="createStatus",
    get_id="getStatus",
    update_id="updateStatus",
    delete_id="deleteStatus",
)
