"""Output files that are either complete or absent: written to a temporary file in the
target's folder, flushed to disk, then renamed into place with ``os.replace`` (atomic on
POSIX and Windows within one file system). If writing fails or the process is killed, the
target keeps its old content (or stays absent); at worst a hidden ``.NAME.*.tmp`` file is
left next to it.

Every file stancekit writes goes through :func:`atomic_open` (results of
``stancekit analyze --output``, reports, figures, evaluation JSON, spans files); model
folders are renamed into place the same way by ``StanceModel.save``.

Example:
    >>> import os, tempfile
    >>> from stancekit.atomic import atomic_open, atomic_write
    >>> path = os.path.join(tempfile.mkdtemp(), "out.txt")
    >>> _ = atomic_write(path, "one\\n")
    >>> with atomic_open(path) as f:
    ...     _ = f.write("two\\n")
    >>> open(path).read()
    'two\\n'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal, overload

__all__ = ["atomic_open", "atomic_write", "atomic_write_bytes"]


@overload
def atomic_open(
    path: str | os.PathLike[str], mode: Literal["w"] = "w"
) -> contextlib.AbstractContextManager[IO[str]]: ...
@overload
def atomic_open(
    path: str | os.PathLike[str], mode: Literal["wb"]
) -> contextlib.AbstractContextManager[IO[bytes]]: ...
def atomic_open(
    path: str | os.PathLike[str], mode: Literal["w", "wb"] = "w"
) -> contextlib.AbstractContextManager[IO[Any]]:
    """A file to write ``path`` through (``"w"``: UTF-8 text with ``\\n`` line ends, or
    ``"wb"``); it replaces ``path`` only when the ``with`` block ends without an error.
    The folder is created if needed; an existing file's permissions are kept."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open: 'mode' must be 'w' or 'wb', got {mode!r}")
    return _atomic(Path(path), mode)


@contextlib.contextmanager
def _atomic(out: Path, mode: str) -> Iterator[IO[Any]]:
    out.parent.mkdir(parents=True, exist_ok=True)
    perms = out.stat().st_mode & 0o777 if out.exists() else 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        kwargs: dict[str, Any] = {} if mode == "wb" else {"encoding": "utf-8", "newline": "\n"}
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, perms)
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    """The process umask, read without changing it (``os.umask`` would, for every thread);
    ``0o022`` where ``/proc`` is absent."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


def atomic_write(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the path."""
    with atomic_open(path) as f:
        f.write(text)
    return Path(path)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    with atomic_open(path, "wb") as f:
        f.write(data)
    return Path(path)
