"""The command line that starts the engine service (pure, no Qt)."""

from __future__ import annotations

import sys


def engine_serve_command(rig: str | None = None, frozen: bool | None = None,
                         executable: str | None = None) -> list[str]:
    """``[program, *args]`` for ``engine serve --profile -`` (the profile comes on stdin).

    In a PyInstaller bundle (``sys.frozen``) the executable itself has an ``engine``
    sub-command; from source the engine runs as ``python -m engine``.
    """
    is_frozen = bool(getattr(sys, "frozen", False)) if frozen is None else frozen
    program = executable or sys.executable
    prefix = [program, "engine"] if is_frozen else [program, "-m", "engine"]
    command = [*prefix, "serve", "--profile", "-"]
    if rig:
        command += ["--rig", rig]
    return command
