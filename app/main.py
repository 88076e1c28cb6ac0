"""``quantlaunch``: the launcher's entry point.

Fast start: only Qt and light engine modules load before the window shows; the GPU
inventory (NVML) and model inspection run in the thread pool after ``show()``.
"""

from __future__ import annotations

import argparse
import sys
import time

PROCESS_CLOCK_START = time.perf_counter()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quantlaunch", description="QuantLaunch: launch GGUF models on any GPU")
    parser.add_argument("--rig", help="show a simulated GPU rig (resources/rigs/NAME.json) instead of this machine")
    parser.add_argument("--profile", help="start with this saved profile")
    parser.add_argument("--model", help="start with this GGUF model file")
    parser.add_argument("--launch", action="store_true", help="launch the engine right away")
    parser.add_argument("--screenshot", metavar="FILE.png", help="render the window after start-up to FILE and exit")
    parser.add_argument("--chat", metavar="TEXT", help="with --launch: send TEXT to the model once it is ready")
    parser.add_argument("--self-test", action="store_true", help="print imports, versions, demo model, NVRTC; exit")
    parser.add_argument("--startup-time", action="store_true", help="print the time from process start to window shown")
    return parser


def seconds_since_process_start() -> float:
    """Wall time since the OS started this process (Linux /proc), else since this module loaded."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat, open("/proc/uptime", encoding="ascii") as uptime:
            start_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])  # field 22: starttime
            import os

            return float(uptime.read().split()[0]) - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - PROCESS_CLOCK_START


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.self_test:
        from app.self_test import run_self_test

        return run_self_test()
    from app.application import run_application

    return run_application(args)


if __name__ == "__main__":
    sys.exit(main())
