"""The diagnostic for an engine that speaks another version of the engine <-> launcher protocol."""

from __future__ import annotations

from typing import Any

from engine import protocol
from engine.diagnostics import Diagnostic, error

PROTOCOL_MISMATCH_CODE = "QL-E-PROTOCOL"


def protocol_mismatch(engine_version: Any) -> Diagnostic:
    """QL-E-PROTOCOL: the engine's events carry protocol version ``engine_version``, not ours."""
    ours = protocol.PROTOCOL_VERSION
    return error(
        PROTOCOL_MISMATCH_CODE,
        "The engine and the launcher versions don't match",
        f"The engine sends its messages in protocol version {engine_version!r}, but this launcher reads "
        f"version {ours}, so it cannot follow the engine's progress, readiness or errors. The engine and "
        "the launcher come from different QuantLaunch installs or updates. Reinstall or update QuantLaunch "
        "so that both come from the same version, then launch again.",
        engine_protocol=repr(engine_version),
        launcher_protocol=ours,
    )
