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
