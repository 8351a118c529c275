"""What the bench scripts share to time a piece of work and print a figure with its meaning."""

import time
from collections.abc import Callable
from typing import Any


def per_second(run: Callable[[], object], count: int, repeat: int = 3) -> float:
    """Items per second of the fastest of `repeat` runs: the machine is shared, the slower runs measure
    the neighbours."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return count / best


def say(key: str, value: Any, meaning: str) -> None:
    print(f"  {key}={value}: {meaning}")
