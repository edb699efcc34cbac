"""Sources: where a contact came from. Deleting one in use is refused (D13)."""

from mockserver.handlers import named

HANDLERS = named.handlers(
    "sources",
    ("name",),
    list_id="listSources",
    create_id="createSource",
    get_id="getSource",
    update_id="updateSource",
    delete_id="deleteSource",
)
