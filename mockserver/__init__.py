"""Stateful, spec-driven mock of the WA.cr APP API v2.

The core (``MockCore``) knows nothing of HTTP frameworks; ``asgi`` and
``respx_adapter`` are thin layers over it.
"""

from mockserver.core import MockCore
from mockserver.http import CoreRequest, CoreResponse

__all__ = ["CoreRequest", "CoreResponse", "MockCore"]
