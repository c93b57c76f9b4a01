"""Formatting shared by the benchmark scripts (bench/python/*.py and
bench/report.py): ratios, cells, tables, target verdicts."""


def fmt_x(v, places=1):
    return "-" if v is None else f"{v:,.{places}f}x"


def table(header, rows):
    widths = [max(len(str(r[c])) for r in [header] + rows) for c in range(len(header))]

    def line(r):
        return "  ".join(
            str(v).ljust(w) if c == 0 else str(v).rjust(w)
            for c, (v, w) in enumerate(zip(r, widths))
        )

    print(line(header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def verdict(value, ok):
    """PASS/MISS of a target on a measured value, "n/a " when unmeasured."""
    return "n/a " if value is None else ("PASS" if ok(value) else "MISS")
