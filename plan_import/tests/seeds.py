"""The seed plans (the plans units published, collected in one file) cut into single plans, and what
each one states, labelled by hand: the groups it sets up, the clocks it gives and the warning levels
it names. Shared by the extraction tests and bench/plan_import.py."""

import json
import re
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
SEED_FILE = DATA / "seed_plans.txt"
TRUTH_FILE = DATA / "seed_plans_truth.json"

_TITLE = re.compile(r"^[^。；;,，:：]{2,30}$")


def seed_plans(text: str | None = None) -> list[tuple[str, str]]:
    """(title, text) of each plan in the collection: a plan starts at a short line naming a 预案."""
    if text is None:
        text = SEED_FILE.read_text(encoding="utf-8")
    plans: list[tuple[str, list[str]]] = []
    for line in text.split("\n"):
        stripped = line.strip()
        starts = stripped and "预案" in stripped and _TITLE.match(stripped)
        if starts and not (plans and plans[-1][0] == stripped and len(plans[-1][1]) <= 1):
            plans.append((stripped, [line]))
        elif plans:
            plans[-1][1].append(line)
        else:
            plans.append(("", [line]))
    return [(title, "\n".join(lines)) for title, lines in plans]


def seed_truth() -> list[dict]:
    """One entry per seed plan, in order: title, groups, clocks ("kind:minutes" or "kind:same_day"),
    levels, and refused (true for a page of a collection that holds no plan)."""
    return json.loads(TRUTH_FILE.read_text(encoding="utf-8"))
