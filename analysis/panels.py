"""The incident page's 「聚类与风险」 section with the heat of its posts, and the paragraph on how the
heat developed that the 总结评估's draft carries; both registered from analysis' AppConfig.ready()
(incidents imports nothing of analysis)."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from analysis import selectors
from analysis.policies import analysis_allows
from incidents.models import Incident, Platform, State
from incidents.panels import Panel

PLATFORMS = dict(Platform.choices)


def heat_chart(heat: selectors.Heat) -> dict[str, Any]:
    """The heat as static/js/charts.js draws it: negative and other posts per window, stacked."""
    others = [total - negative for total, negative in zip(heat.volume, heat.negative, strict=True)]
    return {
        "days": heat.labels,
        "series": [
            {"name": str(_("负面信息")), "data": heat.negative, "color": "#c00000"},
            {"name": str(_("其他信息")), "data": others, "color": "#1f5fa8"},
        ],
    }


def incident_clusters_panel(
    request: HttpRequest, incident: Incident, may_add: bool, overrides: dict[str, Any]
) -> dict[str, Any]:
    """The clusters of the incident's posts and the counts of posts and clusters (the incident page
    is shown only to those who may see the incident, its unit's or a superior's people)."""
    organization_id = incident.organization_id
    picture = selectors.incident_picture(incident)
    heat = picture.heat
    return {
        "heat": heat,
        "heat_chart": heat_chart(heat) if heat is not None else None,
        "growth_percent": round(heat.growth * 100) if heat is not None and heat.growth is not None else None,
        # A rebound while 跟踪: the heat rose again after falling — the plan returns the incident to 处置.
        "rebound": heat is not None and heat.rebound and incident.state == State.TRACKING,
        "counts": picture.counts,
        "clusters": picture.clusters,
        # Links to the cluster pages only for the unit's own people (a superior sees the counts).
        "may_open": analysis_allows("read_analysis", request.user, organization_id),
    }


CLUSTERS_PANEL = Panel(
    "analysis_clusters", "analysis/partials/incident_clusters.html", incident_clusters_panel, order=55
)


def incident_heat_note(incident: Incident) -> str:
    """How the heat of the incident's posts developed, for the 总结评估's draft ("" without posts)."""
    picture = selectors.incident_picture(incident)
    heat, counts = picture.heat, picture.counts
    if heat is None:
        return ""
    peak = max(range(len(heat.volume)), key=lambda i: heat.volume[i])
    platforms = "、".join(
        _("%(name)s %(n)s 条") % {"name": PLATFORMS.get(name, name), "n": n} for name, n in heat.platforms.items()
    )
    text = _(
        "舆情热度：关联信息 %(posts)s 条，归为 %(clusters)s 个聚类，负面占比 %(share)s%%；平台：%(platforms)s。"
        "高峰在截至 %(peak_at)s 的时段（%(peak)s 条），最近一个时段 %(last)s 条。"
    ) % {
        "posts": counts.posts,
        "clusters": counts.clusters,
        "share": round(heat.negative_share * 100),
        "platforms": platforms or "—",
        "peak_at": heat.labels[peak],
        "peak": heat.volume[peak],
        "last": heat.volume[-1],
    }
    if heat.rebound:
        text += _("热度曾回落后再次上升（反弹）。")
    return text
