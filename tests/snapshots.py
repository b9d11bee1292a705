"""A folder's state as one hash, for tests that prove an action left it as it was."""
from __future__ import annotations

import hashlib
from pathlib import Path


def folder_hash(*roots: Path, mtimes: bool = False) -> str:
    """Names and contents of every file and folder under `roots` (and each file's
    modification time with `mtimes`: a file rewritten with the same bytes counts too)."""
    digest = hashlib.sha256()
    for root in roots:
        for path in sorted(Path(root).rglob("*")):
            digest.update(str(path.relative_to(root)).encode())
            if path.is_file() and not path.is_symlink():
                digest.update(path.read_bytes())
                if mtimes:
                    digest.update(str(path.stat().st_mtime_ns).encode())
    return digest.hexdigest()
