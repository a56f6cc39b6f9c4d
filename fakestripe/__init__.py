"""A fake Stripe for development and tests: localstripe plus the fixes in ``extensions``.

Run it with ``python -m fakestripe --host 127.0.0.1 --port 8420`` from the repository
root, or start one in its own process from Python with
``fakestripe.launcher.start_fake_stripe()``.
"""
