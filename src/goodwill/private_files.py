"""Files that hold people's data are the owner's alone: files 0600, the directories made 0700.

goodwill creates its database, uploads and key files through these two functions, so another
account on the same machine cannot read them whatever the process's umask is. Directories that
already exist are left as they are (they may be shared on purpose, like /var/lib).
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Make ``path`` and any missing parents, each new one 0700; an existing one is kept."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(folder, DIR_MODE)  # mkdir's mode is masked by the umask
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 when it does not exist (its directory made 0700)."""
    private_dir(path.parent)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return path
    os.close(descriptor)
    os.chmod(path, FILE_MODE)
    return path
