"""GPU inventory: what NVIDIA devices this machine has, read through NVML.

Never raises for a missing library, a missing or unloaded driver or a permission problem:
the result is then an empty :class:`Inventory` whose ``reason`` says why. The NVML module
is injectable (``nvml=``) so tests never touch the real library; a simulated rig
(``engine.devices.rigs``) produces the same :class:`Inventory`, marked ``simulated``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MIB = 1024 * 1024


@dataclass(frozen=True)
class Device:
    index: int  # NVML index (PCI bus order)
    uuid: str  # e.g. "GPU-1f2e..."; stable across reboots
    name: str  # e.g. "NVIDIA GeForce GTX 1080 Ti"
    compute_capability: tuple[int, int]  # (major, minor)
    memory_total: int  # bytes
    memory_free: int  # bytes
    pci_bus_id: str = ""  # e.g. "00000000:01:00.0"

    @property
    def cc_number(self) -> int:
        """Compute capability as the integer NVRTC uses: (6, 1) -> 61."""
        return self.compute_capability[0] * 10 + self.compute_capability[1]

    @property
    def cc_text(self) -> str:
        return f"{self.compute_capability[0]}.{self.compute_capability[1]}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "uuid": self.uuid,
            "name": self.name,
            "compute_capability": list(self.compute_capability),
            "memory_total": self.memory_total,
            "memory_free": self.memory_free,
            "pci_bus_id": self.pci_bus_id,
        }


@dataclass(frozen=True)
class Inventory:
    devices: tuple[Device, ...] = ()
    driver_version: str = ""  # e.g. "550.54.14"; "" when unknown
    cuda_driver_version: str = ""  # highest CUDA the driver supports, e.g. "12.4"
    reason: str = ""  # why the inventory is empty or partial; "" when all went well
    simulated: bool = False
    rig_name: str = ""  # the simulated rig's name ("" for real hardware)

    @property
    def source_label(self) -> str:
        return f"simulated rig '{self.rig_name}'" if self.simulated else "this machine (NVML)"

    def by_uuid(self, uuid: str) -> Device | None:
        return next((d for d in self.devices if d.uuid == uuid), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "devices": [d.to_dict() for d in self.devices],
            "driver_version": self.driver_version,
            "cuda_driver_version": self.cuda_driver_version,
            "reason": self.reason,
            "simulated": self.simulated,
            "rig_name": self.rig_name,
        }


InventorySource = Callable[[], Inventory]

_NVML_REASONS = {
    "NVMLError_LibraryNotFound": "no NVIDIA driver is installed (the NVML library libnvidia-ml was not found)",
    "NVMLError_DriverNotLoaded": "the NVIDIA driver is installed but not loaded (is the kernel module running?)",
    "NVMLError_NoPermission": "no permission to query the NVIDIA driver (check the user's access to /dev/nvidia*)",
    "NVMLError_LibRmVersionMismatch": "the NVIDIA driver and its library disagree on versions (reboot after a driver update)",
}


def _explain_nvml_error(exc: BaseException) -> str:
    name = type(exc).__name__
    return _NVML_REASONS.get(name, f"the NVIDIA driver could not be queried ({name}: {exc})")


def _text(value: Any) -> str:
    """NVML returns bytes in old bindings and str in new ones."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _cuda_version_text(version: int) -> str:
    """NVML's CUDA driver version integer (e.g. 12040) -> "12.4"."""
    return f"{version // 1000}.{version % 1000 // 10}"


def _read_device(nvml: Any, index: int) -> Device:
    handle = nvml.nvmlDeviceGetHandleByIndex(index)
    major, minor = nvml.nvmlDeviceGetCudaComputeCapability(handle)
    memory = nvml.nvmlDeviceGetMemoryInfo(handle)
    try:
        pci_bus_id = _text(nvml.nvmlDeviceGetPciInfo(handle).busId)
    except Exception:  # PCI info is informative only
        pci_bus_id = ""
    return Device(
        index=index,
        uuid=_text(nvml.nvmlDeviceGetUUID(handle)),
        name=_text(nvml.nvmlDeviceGetName(handle)),
        compute_capability=(int(major), int(minor)),
        memory_total=int(memory.total),
        memory_free=int(memory.free),
        pci_bus_id=pci_bus_id,
    )


def _read_all(nvml: Any) -> Inventory:
    driver = _text(nvml.nvmlSystemGetDriverVersion())
    try:
        cuda_driver = _cuda_version_text(int(nvml.nvmlSystemGetCudaDriverVersion()))
    except Exception:
        cuda_driver = ""
    devices, problems = [], []
    for index in range(int(nvml.nvmlDeviceGetCount())):
        try:
            devices.append(_read_device(nvml, index))
        except Exception as exc:  # one broken device must not hide the others
            problems.append(f"device {index} could not be read ({_explain_nvml_error(exc)})")
    reason = "; ".join(problems) if problems else ("" if devices else "the NVIDIA driver reports no GPU")
    return Inventory(tuple(devices), driver, cuda_driver, reason)


def _import_pynvml() -> Any:
    import pynvml

    return pynvml


def nvml_inventory(nvml: Any = None) -> Inventory:
    """Read the real inventory through NVML (or the injected ``nvml`` module). Never raises."""
    if nvml is None:
        try:
            nvml = _import_pynvml()
        except ImportError:
            return Inventory(reason="the NVIDIA management library for Python (nvidia-ml-py) is not installed")
    try:
        nvml.nvmlInit()
    except Exception as exc:
        return Inventory(reason=_explain_nvml_error(exc))
    try:
        return _read_all(nvml)
    except Exception as exc:
        return Inventory(reason=_explain_nvml_error(exc))
    finally:
        try:
            nvml.nvmlShutdown()
        except Exception:
            pass
