"""`python -m bench [--quick] [--keep] [--out DIR]` (scripts/bench runs it)."""

from __future__ import annotations

import sys


def main() -> int:
    """Run the benchmark, or say plainly why it cannot start."""
    try:
        from bench.run import main as run  # noqa: PLC0415 - a missing module is reported
    except ImportError as err:
        print(
            f"error: {err}; the benchmark needs the current environment"
            " (scripts/setup, SES_ENV=current)",
            file=sys.stderr,
        )
        return 1
    return run(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
