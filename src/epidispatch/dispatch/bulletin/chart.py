"""The bulletin's bar chart (a PNG for the .docx), drawn with matplotlib in a CJK font found
on the machine; without one the chart is left out. The PNG carries no software or time
metadata, so the same bulletin gives the same bytes."""

import io
import logging
import shutil
import subprocess
import threading
from functools import cache
from pathlib import Path

from .content import BulletinContent

log = logging.getLogger(__name__)

#: CJK fonts the chart may use, best first (matplotlib family names).
CJK_FAMILIES = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "AR PL UMing CN",
)


_CHART_LOCK = threading.Lock()


@cache
def cjk_font_path() -> str | None:
    """A font file with Chinese glyphs for the chart: a known family matplotlib has
    indexed, else the first font fontconfig lists for Chinese; None when there is none."""
    from matplotlib import font_manager

    by_family = {}
    for entry in font_manager.fontManager.ttflist:
        by_family.setdefault(entry.name, entry.fname)
    for family in CJK_FAMILIES:
        if family in by_family and Path(by_family[family]).exists():
            return by_family[family]
    if shutil.which("fc-list"):
        listed = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, check=False
        ).stdout
        files = sorted(line.strip().rstrip(":") for line in listed.splitlines() if line.strip())
        for name in files:
            if name.lower().endswith((".ttf", ".ttc", ".otf")) and Path(name).exists():
                return name
    return None


def chart_png(content: BulletinContent) -> bytes | None:
    """Horizontal bars of the towns' coverage, best at the top, the bottom N in red.
    None when no town is ranked or no CJK font is installed (the bulletin then goes out
    without its chart rather than with boxes for names)."""
    rows = content.chart_rows
    if not rows:
        return None
    font = cjk_font_path()
    if font is None:
        log.warning("no CJK font found (install fonts-wqy-microhei); bulletin chart left out")
        return None
    with _CHART_LOCK:
        return _render_chart(content, rows, font)


def _render_chart(content: BulletinContent, rows, font: str) -> bytes:
    import matplotlib
    from matplotlib import font_manager
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    font_manager.fontManager.addfont(font)
    family = font_manager.FontProperties(fname=font).get_name()
    style = {
        "font.family": "sans-serif",
        "font.sans-serif": [family, "DejaVu Sans"],
        "axes.unicode_minus": False,
    }
    with matplotlib.rc_context(style):
        figure = Figure(figsize=(6.3, max(2.4, 0.3 * len(rows) + 1.3)), dpi=150)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        ordered = list(reversed(rows))
        values = [float(row.rate or 0) for row in ordered]
        colours = ["#b3261e" if row.bottom else "#0b5cad" for row in ordered]
        positions = range(len(ordered))
        bars = axes.barh(positions, values, color=colours)
        axes.set_yticks(positions, labels=[row.unit_name for row in ordered])
        axes.bar_label(bars, labels=[row.rate_text for row in ordered], padding=3, fontsize=8)
        axes.set_xlim(0, max(110, max(values) * 1.12))
        axes.set_xlabel("接种率（%）")
        axes.set_title(f"各乡镇（街道）接种率（{content.cutoff_text}）", fontsize=11)
        axes.spines[["top", "right"]].set_visible(False)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


# --- files ---------------------------------------------------------------------------
