"""``make run``: the fake Stripe, a local SMTP server and the shop together in the foreground;
Ctrl-C stops them all."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from fakestripe.devmail import DevMailServer
from fakestripe.launcher import start_fake_stripe
from fakestripe.webhooks import WEBHOOK_EVENTS, register_webhook


def _ini_setting(ini: str, key: str) -> str:
    from framesell.entrypoints.cli import app_settings

    return str(app_settings(ini).get(key, ""))


def main(argv: Sequence[str] | None = None) -> int:
    """Start the fake Stripe, then ``pserve INI``; stop both when either ends or on Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ini", default="development.ini")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8420, help="the fake Stripe's port")
    parser.add_argument(
        "--reload", action="store_true", help="restart the shop when its code changes"
    )
    parser.add_argument(
        "--mail-folder", default="var/mail", help="where the local SMTP server keeps each mail"
    )
    args = parser.parse_args(argv)

    stripe = start_fake_stripe(args.port, host=args.host, quiet=False)
    print(f"fake Stripe on {stripe.url} (Stripe.js stand-in at {stripe.url}/js.stripe.com/v3/)")
    env = dict(os.environ)
    # The shop follows the fake Stripe wherever it listens (--port): its API address, and the
    # Stripe.js stand-in the page loads, which the page's Content-Security-Policy allows.
    env.setdefault("FRAMESELL_STRIPE_API_BASE", stripe.url)
    env.setdefault("FRAMESELL_STRIPE_JS_URL", f"{stripe.url}/js.stripe.com/v3/")
    port = env.get("FRAMESELL_PORT", "6543")
    secret = env.get("FRAMESELL_STRIPE_WEBHOOK_SECRET") or _ini_setting(
        args.ini, "framesell.stripe.webhook_secret"
    )
    # The fake Stripe signs its payment_intent.* events with the shop's webhook secret.
    register_webhook(
        stripe.url, f"http://127.0.0.1:{port}/api/webhooks/stripe/", secret, WEBHOOK_EVENTS
    )
    # The shop's mails go to a local SMTP server that keeps each one as a file.
    mail_port = int(
        env.get("FRAMESELL_SMTP_PORT") or _ini_setting(args.ini, "framesell.smtp.port") or 8025
    )
    mailbox = DevMailServer(Path(args.mail_folder), port=mail_port).start()
    print(
        f"local SMTP server on 127.0.0.1:{mail_port}: every mail the shop sends is kept in"
        f" {args.mail_folder}/ (one .eml file each)"
    )
    reload = ["--reload"] if args.reload else []
    shop = subprocess.Popen(
        [sys.executable, "-m", "pyramid.scripts.pserve", *reload, args.ini], env=env
    )
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
        mailbox.stop()
        stripe.stop()


if __name__ == "__main__":
    sys.exit(main())
