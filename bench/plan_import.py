"""Plan import over the seed plans: how many of the clocks, groups and levels each plan states the
importer recovers, what it misses and what it proposes that the text does not state.

    .venv/bin/python bench/plan_import.py [--quick] [--seeds DIR]

The seed plans are the collection in plan_import/tests/data/seed_plans.txt (a copy of the project's
seed folder; `--seeds DIR` checks that the copy still matches DIR, e.g. ../shared/seeds), cut into
single plans; what each states is labelled by hand in seed_plans_truth.json. A page of the
collection that holds no plan must be refused. The time per plan is the median of several passes
over the collection. No database is needed. Goal: every stated clock and group recovered, nothing
invented. The last line holds the figures.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_ops.settings")


def _found(extraction, kind: str) -> set[str]:
    from plan_import.findings import CLOCK, GROUP, LEVEL

    if kind == "groups":
        return {f.values["name"] for f in extraction.of_kind(GROUP)}
    if kind == "levels":
        return {f.values["name"] for f in extraction.of_kind(LEVEL)}
    assert kind == "clocks"
    return {
        f"{f.values['kind']}:{'same_day' if f.values['same_day'] else f.values['minutes']}"
        for f in extraction.of_kind(CLOCK)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer timing passes")
    parser.add_argument("--seeds", type=Path, help="the seed folder the shipped copy must match")
    args = parser.parse_args()

    import django

    django.setup()
    from plan_import.extract import extract, extraction_refusal
    from plan_import.tests.seeds import SEED_FILE, seed_plans, seed_truth

    copy_current = "unchecked"
    if args.seeds is not None:
        texts = sorted(p.read_text(encoding="utf-8") for p in args.seeds.glob("*.txt"))
        copy_current = "yes" if texts == [SEED_FILE.read_text(encoding="utf-8")] else "no"
        print(f"seed folder {args.seeds}: {len(texts)} file(s); shipped copy matches: {copy_current}")

    plans = seed_plans()
    truth = seed_truth()
    if len(plans) != len(truth):
        sys.exit(f"the collection cuts into {len(plans)} plans but the truth labels {len(truth)}")

    totals = {kind: [0, 0] for kind in ("clocks", "groups", "levels")}
    invented: list[str] = []
    misses: list[str] = []
    refused_ok = refused_expected = 0
    for (title, text), expected in zip(plans, truth, strict=True):
        extraction = extract(text)
        refused = extraction_refusal(extraction) is not None
        line = [f"{title[:18]:<18}"]
        if expected.get("refused"):
            refused_expected += 1
            refused_ok += refused
            line.append("refused" if refused else "NOT REFUSED")
            if not refused:
                invented.append(f"{title}: a page with no plan was not refused")
        for kind in ("clocks", "groups", "levels"):
            stated = set(expected[kind])
            found = _found(extraction, kind)
            hit = stated & found
            totals[kind][0] += len(hit)
            totals[kind][1] += len(stated)
            misses += [f"{title}: {kind[:-1]} {name}" for name in sorted(stated - found)]
            invented += [f"{title}: {kind[:-1]} {name}" for name in sorted(found - stated)]
            if stated or found:
                line.append(f"{kind} {len(hit)}/{len(stated)}" + (f" +{len(found - stated)}" if found - stated else ""))
        print("  ".join(line))

    passes = 3 if args.quick else 15
    timings = []
    texts = [text for _title, text in plans]
    for _ in range(passes):
        started = time.perf_counter()
        for text in texts:
            extract(text)
        timings.append((time.perf_counter() - started) * 1000 / len(texts))

    print()
    for kind, (hit, stated) in totals.items():
        print(f"{kind}: {hit}/{stated} recovered")
    print("missed:" if misses else "missed: none")
    for miss in misses:
        print(f"  {miss}")
    print("invented:" if invented else "invented: none")
    for item in invented:
        print(f"  {item}")
    summary = {
        "plans": len(plans),
        "clocks_recovered": f"{totals['clocks'][0]}/{totals['clocks'][1]}",
        "groups_recovered": f"{totals['groups'][0]}/{totals['groups'][1]}",
        "levels_recovered": f"{totals['levels'][0]}/{totals['levels'][1]}",
        "invented": len(invented),
        "refused_ok": f"{refused_ok}/{refused_expected}",
        "ms_per_plan": f"{statistics.median(timings):.1f}",
        "seed_copy_current": copy_current,
    }
    print(" ".join(f"{key}={value}" for key, value in summary.items()))


if __name__ == "__main__":
    main()
