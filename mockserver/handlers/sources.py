"""Sources: where a contact came from. Deleting one in use is refused (D13)."""

from mockserver.handlers import named

named.register("sources", ("name",), "Source")
