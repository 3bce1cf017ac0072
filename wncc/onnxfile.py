"""Writing ONNX files atomically: a model is written to a temporary file beside its destination
and renamed over it, so a failure leaves nothing half-written; the file gets the permissions a
plain write would (the umask's), not the temporary file's private ones."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import onnx


def save(model: onnx.ModelProto | None, out: Path, src: Path | None = None) -> None:
    """Write ``model`` (or, when it is None, a copy of the file ``src``) to ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        if model is None:
            shutil.copyfile(src, tmp)
        else:
            onnx.save(model, tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
