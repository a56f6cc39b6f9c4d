"""``pshell development.ini`` offers the shop and its services, on the ini's own database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
SESSION = """\
catalog.add_product("Harbour", "https://photos.example.com/h.jpg", Money.from_major("49.50"))
print("RESULT", [p.description for p in shop.catalog.list_products()], settings.environment)
print("RESULT", sorted(n for n in ("users", "orders", "payments", "idempotency") if n in globals()))
"""


def test_pshell_on_development_ini_offers_the_shop(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRAMESELL_")}
    env["FRAMESELL_DATABASE_URL"] = f"sqlite:///{tmp_path / 'shell.sqlite'}"
    pshell = Path(sys.executable).parent / "pshell"

    done = subprocess.run(
        [str(pshell), str(REPOSITORY / "development.ini")],
        input=SESSION, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip

    results = [line for line in done.stdout.splitlines() if "RESULT" in line]
    assert results == [
        ">>> RESULT ['Harbour'] development",
        ">>> RESULT ['idempotency', 'orders', 'payments', 'users']",
    ], done.stdout + done.stderr
    # Listed in pshell's banner with the first words of its docstring.
    assert "shop         The shop, wired to one adapter per port" in done.stderr
