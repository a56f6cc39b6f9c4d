"""``python -m fakestripe --host 127.0.0.1 --port 8420``: run the fake Stripe in the foreground."""

from __future__ import annotations

import argparse
import asyncio
import warnings

from fakestripe.server import serve


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and serve until SIGINT or SIGTERM; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m fakestripe", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8420, help="port (0: any free port)")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    args = parser.parse_args(argv)
    # localstripe uses a few APIs that newer Pythons and aiohttp deprecate; not our concern.
    warnings.simplefilter("ignore", DeprecationWarning)
    asyncio.run(serve(args.host, args.port, access_log=not args.quiet))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
