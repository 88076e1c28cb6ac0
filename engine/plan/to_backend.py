"""From a Plan to the runtime's BackendSpec (engine side only: imports engine.backends).

Device ids in the spec are the plan's NVML indices (PCI bus order). The engine must make
CUDA number devices the same way, by setting ``CUDA_DEVICE_ORDER=PCI_BUS_ID`` before CUDA
is initialised (CUDA's default order is "fastest first"), or map by UUID itself.
"""

from __future__ import annotations

from engine.backends.spec import BackendSpec, DeviceAssignment
from engine.diagnostics import DiagnosticError, error
from engine.plan.types import Plan


def backend_spec(plan: Plan) -> BackendSpec:
    """The layers each GPU runs, in layer order; the rest run on the CPU. Refuses a plan with errors."""
    if not plan.ok:
        first = next(d for d in plan.diagnostics if d.is_error)
        raise DiagnosticError(first)
    used = sorted(plan.used_devices, key=lambda d: d.layers[0])  # by first block
    if not used:
        return BackendSpec.cpu()
    for device in used:
        if device.path is None:  # a used device always has a path; guard against a hand-built plan
            raise DiagnosticError(error("QL-E-PLAN", "Plan without a kernel path", f"{device.name} has layers but no path."))
    return BackendSpec("cuda", tuple(DeviceAssignment(d.index, d.path, d.layers) for d in used))
