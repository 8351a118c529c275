"""What other apps count of an alert beside its posts (研判支持: the clusters its posts fall into),
shown on the alert list and the alert's page. A capability app registers its counter in its
AppConfig.ready(); monitoring imports none of them, so dependencies run one way.

A counter takes the unit and the alerts' ids and returns, for each alert it knows of, a short text
(e.g. "4 个聚类"), in a fixed number of queries however many alerts there are.
"""

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

Counter = Callable[[int, list[int]], dict[int, str]]
_counters: list[Counter] = []


def alert_counter_register(counter: Counter) -> None:
    if counter not in _counters:
        _counters.append(counter)


def alert_counts(organization_id: int, alert_ids: list[int]) -> dict[int, list[str]]:
    """Each registered counter's text per alert; a counter that fails is logged and left out (the
    alert pages never fail for it)."""
    counts: dict[int, list[str]] = {pk: [] for pk in alert_ids}
    if not alert_ids:
        return counts
    for counter in _counters:
        try:
            for pk, text in counter(organization_id, alert_ids).items():
                if pk in counts and text:
                    counts[pk].append(text)
        except Exception:
            logger.exception("alert counter %s failed", getattr(counter, "__qualname__", counter))
    return counts
