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


def loads_before_wait(nvdisasm: str, cubin: bytes) -> dict[str, tuple[str, ...] | None]:
    """kernel name -> the global load opcodes (LDG*, sorted, once each) before its first wait;
    None for a kernel with no wait at all. ``cubin`` as CuPy's getCUBIN gives it: one byte
    shorter than NVRTC's cubin (its final NUL), which nvdisasm needs: added back here."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "module.cubin"
        path.write_bytes(cubin + b"\0")
        sass = subprocess.run([nvdisasm, str(path)], capture_output=True, text=True, check=True).stdout
    found: dict[str, tuple[str, ...] | None] = {}
    for name, body in re.findall(r"\n\.text\.(\w+):\n(.*?)(?=\n\s*//-+ |\Z)", sass, re.S):
        # "        /*0040*/   @P0 OP.MOD args ;": the instruction after the address
        code = [re.sub(r"^\s*/\*[0-9a-f]+\*/\s*", "", line).rstrip(" ;") for line in body.split("\n")
                if re.match(r"\s*/\*[0-9a-f]+\*/", line)]
        waits = [i for i, line in enumerate(code) if WAIT in line]
        if not waits:
            found[name] = None
            continue
        opcodes = {re.sub(r"^@!?U?P\w+\s+", "", line).split()[0] for line in code[: waits[0]] if line}
        found[name] = tuple(sorted(op for op in opcodes if op.startswith("LDG")))
    return found
