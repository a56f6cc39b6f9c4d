"""After ``make mutation``: killed, survived, untested and unchecked mutants per module."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

LINE = re.compile(r"^\s*(?P<module>[\w.]+)\.x\S*__mutmut_\d+: (?P<status>.+)$")
# mutmut's exit codes for "survived" (0) and "no tests" (5, 33): worth another try.
RETRY_EXIT_CODES = {0, 5, 33}
# mutmut's words for what became of a mutant, and ours.
STATUS = {
    "killed": "killed",
    "timeout": "killed",
    "survived": "survived",
    "no tests": "no tests",
    "suspicious": "survived",
    "not checked": "not run",
    "skipped": "not run",
    "segfault": "killed",
}


def summary(results: str) -> dict[str, Counter[str]]:
    """Count ``mutmut results --all true`` lines per module."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for line in results.splitlines():
        match = LINE.match(line)
        if match:
            counts[match["module"]][STATUS.get(match["status"].strip(), "other")] += 1
    return counts


def retry_survivors(mutants: Path = Path("mutants")) -> int:
    """Forget survived and untested outcomes, so the next run tries them on the new tests."""
    forgotten = 0
    for meta in mutants.rglob("*.py.meta"):
        data = json.loads(meta.read_text())
        codes = data["exit_code_by_key"]
        for name, code in codes.items():
            if code in RETRY_EXIT_CODES:
                codes[name] = None
                forgotten += 1
        meta.write_text(json.dumps(data))
    return forgotten


def main() -> None:
    """Print one Markdown table row per module (paste it into docs/testing.md)."""
    if sys.argv[1:] == ["--retry-survivors"]:
        print(f"forgot {retry_survivors()} survived or untested outcomes")
        return
    mutmut = Path(sys.executable).with_name("mutmut")
    results = subprocess.run(
        [str(mutmut), "results", "--all", "true"], capture_output=True, text=True, check=True
    ).stdout
    print("| module | killed | survived | no tests | not run | killed of run |")
    print("| --- | --- | --- | --- | --- | --- |")
    for module, counts in sorted(summary(results).items()):
        run = counts["killed"] + counts["survived"] + counts["no tests"]
        share = f"{100 * counts['killed'] / run:.0f} %" if run else "-"
        print(
            f"| {module} | {counts['killed']} | {counts['survived']} | {counts['no tests']} "
            f"| {counts['not run']} | {share} |"
        )


if __name__ == "__main__":
    main()
