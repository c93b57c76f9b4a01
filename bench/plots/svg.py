"""Hand-written SVG charts, standard library only: a line chart and a dot
chart, with axes, ticks (linear or log), a legend, a title and units.

Deterministic: the same arguments give the same bytes (fixed number
formats, no dates, no ids drawn from memory or chance). Used by
make_plots.py; tested by test_plots.py.

    line_chart(title, x_label, y_label, series, x_log=False, y_log=False)
        series: [Series(name, [(x, y), ...], colour, dash)]
    dot_chart(title, x_label, rows, series, x_log=False)
        rows: the row labels, top to bottom
        series: [Series(name, [(row label, x), ...], colour, marker)]

Both return the SVG document as a str.
"""

import math
from dataclasses import dataclass
from xml.sax.saxutils import escape

# Okabe-Ito, the colour-blind-safe palette, then greys
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
GREY = "#777777"

FONT = 'font-family="DejaVu Sans, Arial, Helvetica, sans-serif"'
CHAR_W = 6.6  # mean advance of a 12 px glyph, for layout only


@dataclass
class Series:
    name: str
    points: list
    colour: str = PALETTE[0]
    dash: str = ""  # line chart: an SVG dash array ("6 4"), "" solid
    marker: str = "circle"  # "circle", "square", "diamond", "triangle"


def num(v):
    """A coordinate: one decimal, no "-0.0"."""
    s = f"{v:.1f}"
    return "0.0" if s == "-0.0" else s


def label(v):
    """A tick label: up to 4 significant digits, thousands with commas."""
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    s = f"{v:.4g}"
    if "e" in s:
        s = f"{v:.6f}".rstrip("0").rstrip(".")
    return s


def text_width(s, size=12):
    return len(s) * CHAR_W * size / 12


class Scale:
    """Maps data values in [lo, hi] to pixels in [p0, p1], linear or log."""

    def __init__(self, values, p0, p1, log=False, zero=False):
        values = [v for v in values if v is not None and (v > 0 or not log)]
        if not values:
            raise ValueError("no values to scale")
        lo, hi = min(values), max(values)
        self.log = log
        if log:
            self.lo = 10 ** math.floor(math.log10(lo) + 1e-9)
            self.hi = 10 ** math.ceil(math.log10(hi) - 1e-9)
            if self.hi <= self.lo:
                self.hi = self.lo * 10
            # trim a mostly empty decade at either end to a 2 or 5 bound
            for m in (5, 2):
                if self.lo * m <= lo:
                    self.lo *= m
                    break
            for m in (5, 2):
                if self.hi / m >= hi:
                    self.hi /= m
                    break
        else:
            if zero:
                lo = min(lo, 0)
            step = nice_step((hi - lo) / 5 if hi > lo else abs(hi) or 1)
            self.lo = math.floor(lo / step + 1e-9) * step
            self.hi = math.ceil(hi / step - 1e-9) * step
            if self.hi <= self.lo:
                self.hi = self.lo + step
            self.step = step
        self.p0, self.p1 = p0, p1

    def __call__(self, v):
        if self.log:
            f = (math.log10(v) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo))
        else:
            f = (v - self.lo) / (self.hi - self.lo)
        return self.p0 + f * (self.p1 - self.p0)

    def ticks(self):
        """(value, labelled) pairs inside [lo, hi]."""
        eps = 1e-9
        if not self.log:
            n = round((self.hi - self.lo) / self.step)
            return [(round(self.lo + i * self.step, 12), True) for i in range(n + 1)]
        decades = math.log10(self.hi / self.lo)
        out = []
        e = math.floor(math.log10(self.lo) + eps)
        while 10**e <= self.hi * (1 + eps):
            for m in range(1, 10):
                v = m * 10**e
                if self.lo * (1 - eps) <= v <= self.hi * (1 + eps):
                    labelled = m == 1 or (decades <= 3 and m in (2, 5)) or (decades <= 1.2)
                    out.append((float(f"{v:.12g}"), labelled))
            e += 1
        return out


def nice_step(raw):
    """The 1, 2 or 5 x 10^k at or above raw."""
    e = math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * 10**e >= raw * (1 - 1e-9):
            return m * 10**e
    return 10 ** (e + 1)


def marker(kind, x, y, colour, r=4.0):
    if kind == "square":
        return (f'<rect x="{num(x - r)}" y="{num(y - r)}" width="{num(2 * r)}" '
                f'height="{num(2 * r)}" fill="{colour}"/>')
    if kind == "diamond":
        r *= 1.3
        pts = f"{num(x)},{num(y - r)} {num(x + r)},{num(y)} {num(x)},{num(y + r)} {num(x - r)},{num(y)}"
        return f'<polygon points="{pts}" fill="{colour}"/>'
    if kind == "triangle":
        r *= 1.25
        pts = f"{num(x)},{num(y - r)} {num(x + r)},{num(y + r * 0.8)} {num(x - r)},{num(y + r * 0.8)}"
        return f'<polygon points="{pts}" fill="{colour}"/>'
    return f'<circle cx="{num(x)}" cy="{num(y)}" r="{num(r)}" fill="{colour}"/>'


def text(x, y, s, size=12, anchor="start", extra=""):
    return (f'<text x="{num(x)}" y="{num(y)}" font-size="{size}" text-anchor="{anchor}"'
            f'{extra}>{escape(s)}</text>')


def document(width, height, body, title):
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" {FONT}>')
    return "\n".join([head, f"<title>{escape(title)}</title>",
                      f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
                      *body, "</svg>", ""])


def titles(width, title, subtitle):
    out = [text(width / 2, 22, title, 15, "middle", ' font-weight="bold"')]
    if subtitle:
        out.append(text(width / 2, 40, subtitle, 11, "middle", f' fill="{GREY}"'))
    return out


def x_axis(sx, y0, y1, x_label):
    out = []
    for v, labelled in sx.ticks():
        x = sx(v)
        shade = "#dddddd" if labelled else "#eeeeee"
        out.append(f'<line x1="{num(x)}" y1="{num(y0)}" x2="{num(x)}" y2="{num(y1)}" stroke="{shade}"/>')
        out.append(f'<line x1="{num(x)}" y1="{num(y1)}" x2="{num(x)}" y2="{num(y1 + 4)}" stroke="#333333"/>')
        if labelled:
            out.append(text(x, y1 + 17, label(v), 11, "middle"))
    out.append(f'<line x1="{num(sx.p0)}" y1="{num(y1)}" x2="{num(sx.p1)}" y2="{num(y1)}" stroke="#333333"/>')
    out.append(text((sx.p0 + sx.p1) / 2, y1 + 36, x_label, 12, "middle"))
    return out


def y_axis(sy, x0, x1, y_label):
    out = []
    for v, labelled in sy.ticks():
        y = sy(v)
        shade = "#dddddd" if labelled else "#eeeeee"
        out.append(f'<line x1="{num(x0)}" y1="{num(y)}" x2="{num(x1)}" y2="{num(y)}" stroke="{shade}"/>')
        out.append(f'<line x1="{num(x0 - 4)}" y1="{num(y)}" x2="{num(x0)}" y2="{num(y)}" stroke="#333333"/>')
        if labelled:
            out.append(text(x0 - 7, y + 4, label(v), 11, "end"))
    out.append(f'<line x1="{num(x0)}" y1="{num(sy.p0)}" x2="{num(x0)}" y2="{num(sy.p1)}" stroke="#333333"/>')
    cy = (sy.p0 + sy.p1) / 2
    out.append(text(16, cy, y_label, 12, "middle", f' transform="rotate(-90 16 {num(cy)})"'))
    return out


def legend_entry(x, y, s, line=None, dot=None):
    """line: (colour, dash) for a line sample; dot: (marker, colour)."""
    out = []
    if line:
        colour, dash = line
        d = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<line x1="{num(x)}" y1="{num(y)}" x2="{num(x + 24)}" y2="{num(y)}" '
                   f'stroke="{colour}" stroke-width="2"{d}/>')
    if dot:
        out.append(marker(dot[0], x + 12, y, dot[1]))
    out.append(text(x + 30, y + 4, s, 11))
    return out


def line_chart(title, x_label, y_label, series, x_log=False, y_log=False, subtitle="",
               width=760, height=430, y_zero=False, markers=True):
    """Lines through each series' (x, y) points, in the order given; the
    legend on the right, in the same order."""
    legend_w = max(text_width(s.name, 11) for s in series) + 44
    left, top, bottom = 64, 56 if subtitle else 44, 52
    right = legend_w + 16
    xs = [x for s in series for x, _ in s.points]
    ys = [y for s in series for _, y in s.points]
    sx = Scale(xs, left, width - right, x_log)
    sy = Scale(ys, height - bottom, top, y_log, zero=y_zero)
    body = titles(width, title, subtitle)
    body += x_axis(sx, top, height - bottom, x_label)
    body += y_axis(sy, left, width - right, y_label)
    for s in series:
        pts = [(sx(x), sy(y)) for x, y in s.points if y is not None and (y > 0 or not y_log)]
        d = f' stroke-dasharray="{s.dash}"' if s.dash else ""
        path = " ".join(f"{num(x)},{num(y)}" for x, y in pts)
        body.append(f'<g><title>{escape(s.name)}</title>'
                    f'<polyline points="{path}" fill="none" stroke="{s.colour}" stroke-width="2"{d}/>')
        if markers:
            body += [marker(s.marker, x, y, s.colour, 3.0) for x, y in pts]
        body.append("</g>")
    lx, ly = width - right + 14, top + 8
    for i, s in enumerate(series):
        body += legend_entry(lx, ly + 18 * i, s.name, line=(s.colour, s.dash),
                             dot=(s.marker, s.colour) if markers else None)
    return document(width, height, body, title)


def dot_chart(title, x_label, rows, series, x_log=False, subtitle="", width=760, x_zero=False,
              row_h=22):
    """One row per label, one dot per series on the rows it has a value for;
    a thin line joins a row's dots. The legend on one line under the title."""
    label_w = max(text_width(r, 11) for r in rows) + 16
    left, right = label_w + 8, 24
    # the legend, wrapped onto as many lines as it needs
    lines, x = [[]], left
    for s in series:
        w = text_width(s.name, 11) + 48
        if x + w > width - right and lines[-1]:
            lines.append([])
            x = left
        lines[-1].append((x, s))
        x += w
    top = (60 if subtitle else 46) + 18 * len(lines)
    bottom = 52
    height = int(top + row_h * len(rows) + bottom)
    values = [v for s in series for _, v in s.points]
    sx = Scale(values, left, width - right, x_log, zero=x_zero)
    y_of = {r: top + row_h * (i + 0.5) for i, r in enumerate(rows)}
    body = titles(width, title, subtitle)
    body += x_axis(sx, top, top + row_h * len(rows), x_label)
    for r in rows:
        y = y_of[r]
        body.append(text(left - 8, y + 4, r, 11, "end"))
        here = [sx(v) for s in series for row, v in s.points if row == r]
        if len(here) > 1:
            body.append(f'<line x1="{num(min(here))}" y1="{num(y)}" x2="{num(max(here))}" '
                        f'y2="{num(y)}" stroke="#bbbbbb" stroke-width="1.5"/>')
    for s in series:
        body.append(f"<g><title>{escape(s.name)}</title>")
        body += [marker(s.marker, sx(v), y_of[r], s.colour) for r, v in s.points]
        body.append("</g>")
    for i, line in enumerate(lines):
        y = top - 14 - 18 * (len(lines) - 1 - i)
        for x, s in line:
            body += legend_entry(x - 12, y, s.name, dot=(s.marker, s.colour))
    return document(width, height, body, title)
