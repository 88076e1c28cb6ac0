"""The global loads a kernel issues before its griddepcontrol.wait, from its SASS (a helper of
test_pdl_prewait_sass.py and bench/experiments/2026-12-07-fifteenth-prewait-audit.py).

nvdisasm comes from the nvidia-cuda-nvdisasm wheel (a test extra on Linux) or the PATH.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

WAIT = "ACQBULK"  # griddepcontrol.wait in SASS (griddepcontrol.launch_dependents is PREEXIT)


def find_nvdisasm() -> str | None:
    """nvdisasm on the PATH or in an installed nvidia-* wheel (nvidia/<dir>/bin/), else None."""
    found = shutil.which("nvdisasm")
    if found:
        return found
    spec = importlib.util.find_spec("nvidia")
    for root in (spec.submodule_search_locations or []) if spec else []:
        for path in sorted(Path(root).glob("*/bin/nvdisasm*")):
            return str(path)
    return None


def nvdisasm_or_skip() -> str:
    """nvdisasm's path for a SASS test; skips it without NVRTC (nothing to compile with) or
    without nvdisasm."""
    import pytest

    from engine.kernels.build import nvrtc_version

    try:
        nvrtc_version()
    except Exception as exc:  # no NVRTC library at all
        pytest.skip(f"NVRTC not available: {exc}")
    path = find_nvdisasm()
    if path is None:
        pytest.skip("no nvdisasm (the nvidia-cuda-nvdisasm wheel of the test extra, Linux)")
    return path


def _disassemble(nvdisasm: str, cubin: bytes) -> str:
    """nvdisasm's text of ``cubin`` as CuPy's getCUBIN gives it: one byte shorter than NVRTC's
    cubin (its final NUL), which nvdisasm needs: added back here."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "module.cubin"
        path.write_bytes(cubin + b"\0")
        return subprocess.run([nvdisasm, str(path)], capture_output=True, text=True, check=True).stdout


def static_shared_bytes(nvdisasm: str, cubin: bytes) -> dict[str, int]:
    """kernel name -> its static shared memory in bytes (the size of its .nv.shared section)."""
    found = re.findall(r"\n\.nv\.shared\.(\w+):\n\s*\.zero\s+(\d+)", _disassemble(nvdisasm, cubin))
    return {name: int(size) for name, size in found}


def kernel_code(nvdisasm: str, cubin: bytes) -> dict[str, list[str]]:
    """kernel name -> its SASS instructions in address order ("@!P0 LDG.E R2, desc[UR4][R2.64]")."""
    sass = _disassemble(nvdisasm, cubin)
    kernels = {}
    for name, body in re.findall(r"\n\.text\.(\w+):\n(.*?)(?=\n\s*//-+ |\Z)", sass, re.S):
        # "        /*0040*/   @P0 OP.MOD args ;": the instruction after the address
        kernels[name] = [re.sub(r"^\s*/\*[0-9a-f]+\*/\s*", "", line).rstrip(" ;") for line in body.split("\n")
                         if re.match(r"\s*/\*[0-9a-f]+\*/", line)]
    return kernels


def _opcode(line: str) -> str:
    return re.sub(r"^@!?U?P\w+\s+", "", line).split()[0] if line.strip() else ""


def loads_before_wait(nvdisasm: str, cubin: bytes) -> dict[str, tuple[str, ...] | None]:
    """kernel name -> the global load opcodes (LDG*, sorted, once each) before its first wait;
    None for a kernel with no wait at all."""
    found: dict[str, tuple[str, ...] | None] = {}
    for name, code in kernel_code(nvdisasm, cubin).items():
        waits = [i for i, line in enumerate(code) if WAIT in line]
        if not waits:
            found[name] = None
            continue
        opcodes = {_opcode(line) for line in code[: waits[0]]}
        found[name] = tuple(sorted(op for op in opcodes if op.startswith("LDG")))
    return found


_WIDTH = {"64": 2, "128": 4}  # registers written by a load of that many bits


def _registers(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"\bR(\d+)\b", text)}


def _split_operands(line: str) -> tuple[str, list[str]]:
    body = re.sub(r"^@!?U?P\w+\s+", "", line)
    op, _, rest = body.partition(" ")
    return op, [part.strip() for part in rest.split(",")] if rest else []


def _reads(line: str) -> set[int]:
    """Registers an instruction reads: every operand but a leading destination register
    (stores, branches and compares have none)."""
    op, operands = _split_operands(line)
    writes_first = operands and re.fullmatch(r"R\d+", operands[0]) and not op.startswith(("ST", "RED", "ATOM"))
    return _registers(",".join(operands[1:] if writes_first else operands))


def _load_writes(line: str) -> set[int]:
    op, operands = _split_operands(line)
    first = int(re.fullmatch(r"R(\d+)", operands[0]).group(1))
    width = next((n for bits, n in _WIDTH.items() if f".{bits}" in op), 1)
    return set(range(first, first + width))


def longest_load_run(code: list[str], opcode: str) -> int:
    """After the kernel's wait, in address order: the most loads with opcode ``opcode`` (exactly)
    issued while all of them are still outstanding, i.e. before any instruction reads a
    register one of them loads. A loop body that uses each load before the next one is
    issued has runs of 1; a batch of loads issued together, a run of the batch's size."""
    waits = [i for i, line in enumerate(code) if WAIT in line]
    best, run, pending = 0, 0, set()
    for line in code[waits[0] + 1 if waits else 0:]:
        if _reads(line) & pending:
            best, run, pending = max(best, run), 0, set()
        if _opcode(line) == opcode:
            run, pending = run + 1, pending | _load_writes(line)
    return max(best, run)
