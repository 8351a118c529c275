"""Charts drawn into monitoring reports with matplotlib, on the server, with no browser: the same
drawing as PNG for Word and as SVG for the PDF (glyphs drawn as outlines, so the PDF needs no font for
them). Chinese labels use the machine's CJK font (Debian fonts-noto-cjk); the figures come from
reports.figures."""

import io
import threading
from typing import Any

from django.utils.translation import gettext as _

from reports.official import Figure

# Fonts in the order tried; matplotlib falls back along the list glyph by glyph.
FONTS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Micro Hei", "SimHei", "DejaVu Sans"]
BLUE, RED, GREY = "#1f5fa8", "#c00000", "#8c8c8c"
# pyplot keeps global state: one drawing at a time in a process (a worker has one thread anyway).
_lock = threading.Lock()


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "font.family": "sans-serif",
            "font.sans-serif": FONTS,
            "axes.unicode_minus": False,
            "svg.fonttype": "path",
            "font.size": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    return plt


def _render(fig: Any, caption: str) -> Figure:
    png, svg = io.BytesIO(), io.StringIO()
    fig.savefig(png, format="png", dpi=150, bbox_inches="tight")
    fig.savefig(svg, format="svg", bbox_inches="tight")
    text = svg.getvalue()
    return Figure(caption=caption, png=png.getvalue(), svg=text[text.index("<svg") :])


def trend_chart(trend: dict[str, Any]) -> Figure | None:
    """New incidents (bars) and posts captured (line, right axis) over the period."""
    labels = trend.get("labels") or []
    if not labels or not (any(trend.get("incidents", [])) or any(trend.get("posts", []))):
        return None
    with _lock:
        plt = _pyplot()
        fig, left = plt.subplots(figsize=(7.2, 3.0))
        try:
            positions = list(range(len(labels)))
            left.bar(positions, trend["incidents"], color=RED, width=0.6, label=_("新登记舆情（起）"))
            left.set_ylabel(_("舆情（起）"))
            left.yaxis.get_major_locator().set_params(integer=True)
            right = left.twinx()
            right.plot(positions, trend["posts"], color=BLUE, linewidth=1.6, label=_("监测信息（条）"))
            right.set_ylabel(_("信息（条）"))
            right.spines["right"].set_visible(True)
            right.yaxis.get_major_locator().set_params(integer=True)
            step = max(1, -(-len(labels) // 8))  # at most eight labels along the axis
            left.set_xticks(positions[::step], labels[::step], rotation=0)
            handles = left.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
            names = left.get_legend_handles_labels()[1] + right.get_legend_handles_labels()[1]
            left.legend(handles, names, loc="upper left", frameon=False)
            return _render(fig, _("图1　舆情与监测信息走势"))
        finally:
            plt.close(fig)


def distribution_chart(by_platform: list[list[Any]], posts_by_platform: list[list[Any]]) -> Figure | None:
    """Incidents and posts by platform, side by side (horizontal bars)."""
    if not by_platform and not posts_by_platform:
        return None
    with _lock:
        plt = _pyplot()
        panels = [
            (rows, title, color)
            for rows, title, color in (
                (by_platform, _("舆情（起）"), RED),
                (posts_by_platform, _("信息（条）"), BLUE),
            )
            if rows
        ]
        fig, axes = plt.subplots(1, len(panels), figsize=(7.2, 0.4 * max(len(r) for r, _t, _c in panels) + 1.2))
        axes = axes if len(panels) > 1 else [axes]
        try:
            for ax, (rows, title, color) in zip(axes, panels, strict=True):
                names = [str(row[0]) for row in rows][::-1]
                values = [row[1] for row in rows][::-1]
                ax.barh(names, values, color=color, height=0.6)
                ax.set_title(title, fontsize=10)
                ax.xaxis.get_major_locator().set_params(integer=True)
                for y, value in enumerate(values):
                    ax.text(value, y, f" {value}", va="center", fontsize=9, color=GREY)
            fig.tight_layout()
            return _render(fig, _("图2　按平台分布"))
        finally:
            plt.close(fig)
