"""Which global loads does each kernel issue before its griddepcontrol.wait? (sm_90 SASS)

With programmatic dependent launch a kernel may run its start while the kernel before it still
writes; only immutable data (weights, lookup tables) may be loaded before the wait. ptxas may
move an ld.global.nc (a `const __restrict__` load it takes as read-only) above the wait: it did
with the layer ops' step position (fifteenth 2026-12-07 session, fixed by ql_step_pos). This
compiles the layer-ops module and every mat-vec module (mmvq, dmmv) for sm_90 with the NVRTC
given, disassembles each with cuobjdump, and prints, per module, the kinds of global load found
before the first ACQBULK (griddepcontrol.wait) and how many kernels have them; for the layer ops,
each kernel that has any. Expected: LDGSTS (weights, cp.async), LDG.E in the IQ modules (their
lookup tables) and LDG.E.STRONG.SYS in the split attention (its prefetch guess), nothing else.

    python bench/experiments/2026-12-07-fifteenth-prewait-audit.py LIBNVRTC CUOBJDUMP
(LIBNVRTC: e.g. .venv/.../nvidia/cuda_nvrtc/lib/libnvrtc.so.12; CUOBJDUMP: from the
nvidia-cuda-cuobjdump wheel. No GPU needed.)
"""

from __future__ import annotations

import ctypes
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root

from engine.backends.cuda import layer_module_source  # noqa: E402
from engine.kernels.build import CompileTarget, compile_options  # noqa: E402
from engine.kernels.sources import FAMILY_HEADERS, ModuleSpec, header_files, module_source  # noqa: E402

ARCH = 90


def compile_cubin(lib: ctypes.CDLL, source: str, headers: dict[str, str], options: list[str]) -> bytes:
    """NVRTC through its C API (cuobjdump rejected what CuPy's getCUBIN returned: one byte short)."""
    prog, names = ctypes.c_void_p(), list(headers)
    texts = (ctypes.c_char_p * max(1, len(names)))(*[headers[n].encode() for n in names])
    keys = (ctypes.c_char_p * max(1, len(names)))(*[n.encode() for n in names])
    if lib.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), b"m.cu", len(names), texts, keys):
        raise RuntimeError("nvrtcCreateProgram failed")
    opts = (ctypes.c_char_p * len(options))(*[o.encode() for o in options])
    if lib.nvrtcCompileProgram(prog, len(options), opts):
        raise RuntimeError(f"compile failed: {options}")
    size = ctypes.c_size_t()
    lib.nvrtcGetCUBINSize(prog, ctypes.byref(size))
    buf = ctypes.create_string_buffer(size.value)
    lib.nvrtcGetCUBIN(prog, buf)
    lib.nvrtcDestroyProgram(ctypes.byref(prog))
    return buf.raw


def loads_before_wait(cuobjdump: str, cubin: bytes) -> dict[str, tuple[str, ...] | None]:
    """kernel -> the global load opcodes before its first ACQBULK (None: no wait at all)."""
    with tempfile.NamedTemporaryFile(suffix=".cubin") as f:
        f.write(cubin)
        f.flush()
        sass = subprocess.run([cuobjdump, "-sass", f.name], capture_output=True, text=True, check=True).stdout
    found = {}
    for body in re.split(r"\n\s*Function : ", sass)[1:]:
        name, *lines = body.split("\n")
        # "/*0040*/  OP args ;  /* encoding */": the instruction between the address and the encoding
        code = [re.sub(r"^\s*/\*[0-9a-f]+\*/", "", line).split("/*")[0].strip() for line in lines if "/*" in line]
        waits = [i for i, line in enumerate(code) if "ACQBULK" in line]
        if not waits:
            found[name.strip()] = None
            continue
        ops = {re.sub(r"^@!?U?P\w+\s+", "", line).split()[0] for line in code[: waits[0]] if "LDG" in line}
        found[name.strip()] = tuple(sorted(ops))
    return found


def main() -> None:
    lib, cuobjdump = ctypes.CDLL(sys.argv[1]), sys.argv[2]
    layer = loads_before_wait(cuobjdump, compile_cubin(lib, layer_module_source(), {}, ["-std=c++17", f"-arch=sm_{ARCH}"]))
    for name, ops in layer.items():
        if ops:
            print(f"layer ops: {name}: {', '.join(ops)}")
    modules = {"layer ops": layer}
    for family in FAMILY_HEADERS:
        for kind in ("mmvq", "dmmv"):
            try:
                spec = ModuleSpec(family, kind)
            except ValueError:
                continue
            source, options = module_source(spec), list(compile_options(spec, CompileTarget(ARCH)))
            modules[f"{family} {kind}"] = loads_before_wait(cuobjdump, compile_cubin(lib, source, header_files(), options))
    for module, kernels in modules.items():
        kinds = Counter("no wait" if ops is None else (", ".join(ops) or "none") for ops in kernels.values())
        print(f"{module}: " + "; ".join(f"{n} kernels: {k}" for k, n in sorted(kinds.items())))


if __name__ == "__main__":
    main()
