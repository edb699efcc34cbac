"""``--state-file``: the mock's state survives a restart.

The store is written after every call that changed it (atomically, through a
temporary file) and read back at start. A file that cannot be read is never
overwritten: the mock refuses to start and says why.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from mockserver.core import MockCore
from mockserver.http import CoreRequest, CoreResponse

FORMAT = 3  # 3: limiters are sliding windows
READ_ONLY = {"GET", "HEAD", "OPTIONS"}


def load(core: MockCore, path: Path) -> None:
    with open(path, "rb") as handle:
        saved = pickle.load(handle)
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise ValueError("not a wacr-mock state file of this version")
    core.store = saved["store"]


def save(core: MockCore, path: Path) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    with open(temporary, "wb") as handle:
        pickle.dump({"format": FORMAT, "store": core.store}, handle)
    os.replace(temporary, path)


def attach_state_file(core: MockCore, path: Path) -> None:
    if path.exists():
        try:
            load(core, path)
        except Exception as exc:  # noqa: BLE001  (any unreadable file is reported the same way)
            raise SystemExit(
                f"wacr-mock: --state-file {path} cannot be read ({exc}); move it away to start fresh"
            ) from None

    def save_after_change(request: CoreRequest, response: CoreResponse) -> None:
        if request.method not in READ_ONLY and response.status < 400:
            save(core, path)

    core.after_request.append(save_after_change)
    save(core, path)
