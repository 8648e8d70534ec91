"""The device's on-disk memory of the newest checkpoint it has verified.

One small file per log holding the checkpoint note text (C2SP tlog-checkpoint);
written atomically (temp file, fsync, rename) so a crash leaves the old or the
new checkpoint, never a torn one. The verifier (:mod:`privproc.ledger.verifier`)
stays pure: the caller loads, verifies, then saves ``VerifiedInclusion.newest``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from privproc.errors import ConfigError, DecodeError, StoreError
from privproc.ledger.checkpoint import Checkpoint

__all__ = ["SeenCheckpointStore"]


class SeenCheckpointStore:
    """Loads and saves the newest seen checkpoint at ``path``."""

    __slots__ = ("_path",)

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)

    @property
    def path(self) -> Path:
        """Where the checkpoint is kept."""
        return self._path

    def load(self) -> Checkpoint | None:
        """The stored checkpoint, or None if there is none yet."""
        try:
            text = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read seen checkpoint: {type(exc).__name__}") from None
        try:
            return Checkpoint.parse(text)
        except DecodeError as exc:
            raise ConfigError(f"seen checkpoint file is corrupt: {exc}") from None

    def save(self, checkpoint: Checkpoint) -> None:
        """Atomically replace the stored checkpoint."""
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self._path.parent, prefix=".seen-")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(checkpoint.text())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self._path)
        except OSError as exc:
            raise StoreError(f"cannot write seen checkpoint: {type(exc).__name__}") from None
