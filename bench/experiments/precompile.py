"""Fill the kernel disk cache of the tree this runs from (the device calls run it with
PYTHONPATH=/tmp/site:TREE from inside TREE, before timing anything): TYPES (comma-separated,
default every type with kernels) for the device's native target, and with SOFT=1 (the default)
the software-dp4a mmvq modules too. Prints the modules compiled and the seconds it took."""

import os
import time

from engine.kernels.api import KernelSet
from engine.kernels.sources import family_available
from engine.quant.table import QUANT_TABLE


def main() -> None:
    start = time.perf_counter()
    names = [t for t in os.environ.get("TYPES", "").split(",") if t] or list(QUANT_TABLE)
    types = [t for t in names if family_available(QUANT_TABLE[t].family)]
    specs = KernelSet.for_device(0).precompile(types)
    if os.environ.get("SOFT", "1") == "1":
        specs += KernelSet.for_device(0, soft_dp4a=True).precompile([t for t in types if not QUANT_TABLE[t].is_float])
    print(f"precompiled {len(specs)} modules for {len(types)} types in {time.perf_counter() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main()
