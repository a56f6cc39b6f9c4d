"""``make run``: the fake Stripe and the shop together in the foreground; Ctrl-C stops both."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Sequence

from fakestripe.launcher import start_fake_stripe


def main(argv: Sequence[str] | None = None) -> int:
    """Start the fake Stripe, then ``pserve INI``; stop both when either ends or on Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ini", default="development.ini")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8420, help="the fake Stripe's port")
    args = parser.parse_args(argv)

    stripe = start_fake_stripe(args.port, host=args.host, quiet=False)
    print(f"fake Stripe on {stripe.url} (Stripe.js stand-in at {stripe.url}/js.stripe.com/v3/)")
    env = dict(os.environ)
    env.setdefault("FRAMESELL_STRIPE_API_BASE", stripe.url)
    shop = subprocess.Popen([sys.executable, "-m", "pyramid.scripts.pserve", args.ini], env=env)
    port = env.get("FRAMESELL_PORT", "6543")
    print(f"FrameSell on http://127.0.0.1:{port}/ (API at /api/); Ctrl-C stops both")

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        return shop.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if shop.poll() is None:
            shop.terminate()
            try:
                shop.wait(timeout=10)
            except subprocess.TimeoutExpired:
                shop.kill()
        stripe.stop()


if __name__ == "__main__":
    sys.exit(main())
