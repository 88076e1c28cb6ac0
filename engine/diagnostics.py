"""Diagnostics: problems a user can cause, as data (DESIGN.md §5).

A diagnostic carries a stable code, a severity, words for a person (title, detail),
machine-actionable remedies and raw technical facts. The launcher renders remedies as
buttons; the engine emits the same objects over the protocol. Nothing a user can cause
escapes as a raw exception: code raises :class:`DiagnosticError` and the edges (CLI,
server, launcher) turn it into output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Remedy:
    """One fix the launcher can apply to the current settings with a click.

    ``action`` is one of: ``exclude_device``, ``select_device``, ``force_mmvq``,
    ``set_kernel``, ``reduce_context``, ``offload_layers``, ``choose_other_file``,
    ``use_cpu``, ``change_port``, ``auto_tensor_split``. ``args`` holds its parameters (e.g. ``{"uuid": ...}``).
    """

    action: str
    label: str
    args: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "label": self.label, "args": dict(self.args)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Remedy:
        return cls(action=str(data["action"]), label=str(data.get("label", "")), args=dict(data.get("args", {})))


@dataclass(frozen=True)
class Diagnostic:
    code: str  # stable, e.g. "QL-E-VRAM"
    severity: Severity
    title: str
    detail: str
    remedies: tuple[Remedy, ...] = ()
    technical: dict[str, Any] = field(default_factory=dict)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def one_line(self) -> str:
        return f"{self.severity.value}: {self.title} [{self.code}]"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "title": self.title,
            "detail": self.detail,
            "remedies": [r.to_dict() for r in self.remedies],
            "technical": dict(self.technical),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Diagnostic:
        return cls(
            code=str(data["code"]),
            severity=Severity(data["severity"]),
            title=str(data["title"]),
            detail=str(data.get("detail", "")),
            remedies=tuple(Remedy.from_dict(r) for r in data.get("remedies", ())),
            technical=dict(data.get("technical", {})),
        )


class DiagnosticError(Exception):
    """Raised where a user-caused problem stops an operation; carries the diagnostic."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(f"{diagnostic.title}: {diagnostic.detail}")
        self.diagnostic = diagnostic


def error(code: str, title: str, detail: str, *remedies: Remedy, **technical: Any) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, title, detail, tuple(remedies), dict(technical))


def warning(code: str, title: str, detail: str, *remedies: Remedy, **technical: Any) -> Diagnostic:
    return Diagnostic(code, Severity.WARNING, title, detail, tuple(remedies), dict(technical))


def info(code: str, title: str, detail: str, *remedies: Remedy, **technical: Any) -> Diagnostic:
    return Diagnostic(code, Severity.INFO, title, detail, tuple(remedies), dict(technical))


def has_error(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)
