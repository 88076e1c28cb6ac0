"""What distinguishes one GPU of a given name from another in a benchmark record: driver,
maximum SM and memory clocks, enforced power limit (NVML through pynvml). Lent H100s with the
same name have differed by about 10 % in decode speed on identical code, so the results files
carry this next to the card name."""

from __future__ import annotations


def card_details(index: int = 0) -> str:
    """e.g. 'driver 580.159.04, SM max 1980 MHz, memory max 2619 MHz, power limit 700 W'; what
    NVML cannot tell is left out ('' without NVML)."""
    try:
        import pynvml as nvml

        nvml.nvmlInit()
    except Exception:
        return ""
    try:
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
        readers = (
            ("driver {}", lambda: _text(nvml.nvmlSystemGetDriverVersion())),
            ("SM max {} MHz", lambda: nvml.nvmlDeviceGetMaxClockInfo(handle, nvml.NVML_CLOCK_SM)),
            ("memory max {} MHz", lambda: nvml.nvmlDeviceGetMaxClockInfo(handle, nvml.NVML_CLOCK_MEM)),
            ("power limit {:.0f} W", lambda: nvml.nvmlDeviceGetEnforcedPowerLimit(handle) / 1000),
        )
        parts = []
        for template, read in readers:
            try:
                parts.append(template.format(read()))
            except Exception:  # a field this driver or card does not report
                continue
        return ", ".join(parts)
    except Exception:
        return ""
    finally:
        nvml.nvmlShutdown()


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class ClockProbe:
    """The SM clock now and the reasons NVML gives for holding it below its maximum (power cap,
    thermal, ...), read right after a timing so that a slow record shows whether the card was
    throttled. Without NVML every read is {}."""

    def __init__(self, index: int = 0):
        self._nvml, self._handle, self._reasons = None, None, {}
        try:
            import pynvml as nvml

            nvml.nvmlInit()
            self._handle = nvml.nvmlDeviceGetHandleByIndex(index)
            self._nvml, self._reasons = nvml, _reason_flags(nvml)
        except Exception:  # no NVML, no driver, no such device: the records go without clocks
            pass

    def read(self) -> dict:
        """{"sm_mhz": current SM clock, "clock_reasons": [names of the active reasons]} or {}."""
        if self._nvml is None:
            return {}
        nvml, out = self._nvml, {}
        try:
            out["sm_mhz"] = int(nvml.nvmlDeviceGetClockInfo(self._handle, nvml.NVML_CLOCK_SM))
        except Exception:
            pass
        try:
            mask = int(nvml.nvmlDeviceGetCurrentClocksEventReasons(self._handle))
            out["clock_reasons"] = sorted(name for name, bit in self._reasons.items() if mask & bit == bit)
        except Exception:
            pass
        return out

    def close(self) -> None:
        if self._nvml is not None:
            try:
                self._nvml.nvmlShutdown()
            except Exception:
                pass
            self._nvml = None


def _reason_flags(nvml) -> dict[str, int]:
    """NVML's clock-event reason flags by name without the prefix (e.g. 'SwPowerCap'), but the
    'None' and 'All' masks."""
    prefix = "nvmlClocksEventReason"
    flags = {name[len(prefix):]: getattr(nvml, name) for name in dir(nvml) if name.startswith(prefix)}
    return {name: bit for name, bit in flags.items() if name not in ("None", "All") and isinstance(bit, int) and bit}
