"""Turn an engine that died into one diagnostic a person can act on (pure, no Qt).

Structured events come first: an ``error`` event's diagnostic is the cause. Otherwise the
stderr tail is scanned for known failure lines (the Ollama ``llm/status.go`` idea): out of
memory, asserts (GGML_ASSERT-like), CUDA errors, a kill signal, a Python traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from engine.diagnostics import Diagnostic, Remedy, Severity, error

TAIL_LINES = 40  # how many stderr lines a crash diagnostic keeps for the bug report

KILL_EXIT_CODES = frozenset({137, -9, 9})  # 128+SIGKILL, a negative signal number, a raw signal


@dataclass(frozen=True)
class CrashPattern:
    code: str
    title: str
    detail: str
    regex: re.Pattern[str]
    remedies: tuple[Remedy, ...] = ()


def _pattern(code: str, title: str, detail: str, regex: str, *remedies: Remedy) -> CrashPattern:
    return CrashPattern(code, title, detail, re.compile(regex, re.IGNORECASE | re.MULTILINE), remedies)


PATTERNS: tuple[CrashPattern, ...] = (
    _pattern(
        "QL-E-ENGINE-OOM",
        "The engine ran out of memory",
        "Loading or running the model needed more memory than the device had. Offload fewer "
        "layers to the GPU or use a smaller context.",
        r"out of memory|CUDA_ERROR_OUT_OF_MEMORY|cudaErrorMemoryAllocation|OutOfMemoryError|MemoryError",
        Remedy("reduce_context", "Reduce context to 2048", {"n": 2048}),
    ),
    _pattern(
        "QL-E-ENGINE-ASSERT",
        "The engine stopped on an internal assertion",
        "A consistency check inside the engine failed. This is a bug, not something you did; "
        "the log lines below help to report it.",
        r"GGML_ASSERT|Assertion [`'].*[`'] failed|AssertionError|\bassert(ion)? failed",
    ),
    _pattern(
        "QL-E-ENGINE-CUDA",
        "The engine hit a CUDA error",
        "The GPU driver or runtime reported an error. Updating the NVIDIA driver, choosing "
        "another kernel path, or running on the CPU can help.",
        r"CUDA error|CUDARuntimeError|CUDADriverError|cudaError\w*|CUDA_ERROR_\w+|NVRTC(Error| error)",
        Remedy("use_cpu", "Run on the CPU"),
    ),
)


def _last_lines(text: str, count: int = TAIL_LINES) -> list[str]:
    return [line for line in text.splitlines() if line.strip()][-count:]


def _matching_line(pattern: CrashPattern, lines: list[str]) -> str:
    for line in reversed(lines):
        if pattern.regex.search(line):
            return line.strip()
    return ""


def _killed(exit_code: int | None, stderr_lines: list[str]) -> bool:
    if exit_code in KILL_EXIT_CODES:
        return True
    return bool(stderr_lines) and stderr_lines[-1].strip().lower() == "killed"


def _traceback_summary(lines: list[str]) -> str:
    if not any(line.startswith("Traceback (most recent call last)") for line in lines):
        return ""
    return lines[-1].strip()


def classify_crash(
    exit_code: int | None,
    stderr_tail: str,
    error_event: dict[str, Any] | None = None,
) -> Diagnostic:
    """One diagnostic for an engine that exited non-zero, crashed, or failed to start.

    ``exit_code`` is None when the process never started; ``error_event`` is the
    ``diagnostic`` dict of the engine's last ``error`` event, if any.
    """
    lines = _last_lines(stderr_tail)
    technical: dict[str, Any] = {"exit_code": exit_code, "stderr_tail": lines}
    if error_event is not None:
        reported = Diagnostic.from_dict(error_event)
        merged = {**reported.technical, **technical}
        return Diagnostic(reported.code, Severity.ERROR, reported.title, reported.detail, reported.remedies, merged)
    if exit_code is None:
        return error("QL-E-ENGINE-START", "The engine could not be started",
                     "The engine program was not found or could not run. Reinstalling QuantLaunch "
                     "usually fixes this.", **technical)
    for pattern in PATTERNS:
        line = _matching_line(pattern, lines)
        if line:
            return error(pattern.code, pattern.title, f"{pattern.detail}\n\n{line}", *pattern.remedies,
                         **technical)
    if _killed(exit_code, lines):
        return error("QL-E-ENGINE-KILLED", "The engine was killed",
                     "Something outside the engine ended it (often the system running out of RAM). "
                     "Try a smaller model or context.",
                     Remedy("reduce_context", "Reduce context to 2048", {"n": 2048}), **technical)
    summary = _traceback_summary(lines)
    if summary:
        return error("QL-E-ENGINE-INTERNAL", "The engine failed with an internal error",
                     f"This is a bug in the engine; the log lines below help to report it.\n\n{summary}",
                     **technical)
    return error("QL-E-ENGINE-EXIT", f"The engine exited unexpectedly (code {exit_code})",
                 "The engine stopped without saying why. The last log lines are below.", **technical)
