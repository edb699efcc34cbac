"""``--state-file``: the mock's state survives a restart.

- One server per file: the file's lock (``FILE.lock``, held while the server runs) refuses a
  second one, which would otherwise overwrite the first one's writes.
- The store is written after every call that may have changed it, whatever its status (a wrong
  OTP code is a 422 that still counts an attempt), and once more at shutdown (reads move the
  rate-limit windows). Each write goes to a fresh temporary file (mode 0600: tokens and OTP codes
  are inside), is flushed to disk, then renamed over the file, so a reader or a crash sees the old
  state or the new one, never a torn file.
- A file that cannot be read, or holds anything but a mock store, is never overwritten: the mock
  refuses to start and says why. Loading takes only the mock's own state classes, so a crafted
  file cannot run code.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import tempfile
from pathlib import Path

from mockserver.core import MockCore
from mockserver.http import CoreRequest, CoreResponse
from mockserver.state import Store

try:
    import fcntl
except ImportError:  # Windows: no advisory lock, one server per file is up to the user
    fcntl = None

FORMAT = 3  # 3: limiters are sliding windows
READ_ONLY = {"GET", "HEAD", "OPTIONS"}
log = logging.getLogger("wacr-mock")

# What a state file may name: the store's own classes and the standard containers they use.
ALLOWED_GLOBALS = {
    "builtins": {"set", "frozenset", "dict", "list", "tuple", "bytes", "bytearray", "complex"},
    "collections": {"deque", "OrderedDict", "defaultdict"},
    "random": {"Random"},
    "time": {"time"},  # a running clock reads the wall clock
}


class StateUnpickler(pickle.Unpickler):
    """Unpickles the mock's state classes (``mockserver.*``) and plain containers, nothing else."""

    def find_class(self, module: str, name: str):
        if module.startswith("mockserver.") or name in ALLOWED_GLOBALS.get(module, ()):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"it names {module}.{name}, which no state file holds")


def load(path: Path) -> Store:
    saved = StateUnpickler(io.BytesIO(path.read_bytes())).load()
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise ValueError("not a wacr-mock state file of this version")
    if not isinstance(saved.get("store"), Store):
        raise ValueError("it holds no mock store")
    return saved["store"]


def save(store: Store, path: Path) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:  # mkstemp creates it 0600
            pickle.dump({"format": FORMAT, "store": store}, handle, protocol=pickle.HIGHEST_PROTOCOL)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Makes the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def lock(path: Path):
    """Holds ``FILE.lock`` for the server's life; SystemExit when another server holds it."""
    handle = open(path.with_name(path.name + ".lock"), "a+b")  # noqa: SIM115  (held until the process ends)
    if fcntl is not None:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise SystemExit(
                f"wacr-mock: --state-file {path} is in use by another wacr-mock; stop it, or give this one another file"
            ) from None
    return handle


def attach_state_file(core: MockCore, path: Path) -> None:
    """Loads ``path`` into ``core`` if it exists, and saves to it from now on (its hooks)."""
    held = lock(path)
    if path.exists():
        try:
            core.store = load(path)
        except Exception as exc:  # noqa: BLE001  (any unreadable file is reported the same way)
            held.close()
            raise SystemExit(
                f"wacr-mock: --state-file {path} cannot be read ({exc}); move it away to start fresh"
            ) from None

    def save_now() -> None:
        try:
            save(core.store, path)
        except OSError as exc:
            # The change stays in memory and the next write retries; the answer already went out.
            log.error("could not write --state-file %s (%s); the next change retries", path, exc)

    def save_after_change(request: CoreRequest, response: CoreResponse) -> None:
        if request.method not in READ_ONLY:
            save_now()

    def save_and_release() -> None:
        save_now()
        held.close()

    core.after_request.append(save_after_change)
    core.on_close.append(save_and_release)
    save(core.store, path)
