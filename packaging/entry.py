"""The bundle's single executable: the launcher, or the engine as a sub-command.

    quantlaunch                      -> the launcher window
    quantlaunch engine serve ...     -> the engine CLI (the launcher starts its own engine this way)
    quantlaunch --self-test          -> the launcher's self-test (imports, versions, NVRTC, demo model)
"""

import multiprocessing
import sys


def main() -> int:
    multiprocessing.freeze_support()
    if len(sys.argv) > 1 and sys.argv[1] == "engine":
        from engine.cli import main as engine_main

        return engine_main(sys.argv[2:])
    from app.main import main as app_main

    return app_main()


if __name__ == "__main__":
    sys.exit(main())
