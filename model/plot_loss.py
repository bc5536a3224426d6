"""Loss curves (training loss against tokens) from train.py's loss.csv files, as one SVG.

SVG written by hand so plotting needs nothing beyond Python (CI's machine has no matplotlib).
  python3 plot_loss.py --out loss.svg runs/a/loss.csv runs/b/loss.csv ...
A run continued from another's weights (train.py --init) starts where that one ended:
PATH@M shifts its curve by M million tokens.
"""
import argparse
import csv
import os

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
W, H, L, R, T, B = 720, 420, 60, 170, 20, 45          # canvas and margins (px)


def smooth(values, k=10):
    """Running mean over the last k logged points: single steps are noisy."""
    return [sum(values[max(0, i - k):i + 1]) / len(values[max(0, i - k):i + 1]) for i in range(len(values))]


def read(arg):
    """(run name, tokens in millions, smoothed loss) of PATH[@M]."""
    path, _, offset = arg.partition("@")
    rows = list(csv.DictReader(open(path)))
    return (os.path.basename(os.path.dirname(path)), [int(r["tokens"]) / 1e6 + float(offset or 0) for r in rows],
            smooth([float(r["loss"]) for r in rows]))


def svg(curves, title, y_top):
    xmax = max(max(x) for _, x, _ in curves)
    ymin = min(min(y) for _, _, y in curves)
    y0, y1 = max(0.0, int(ymin) - 0.5), y_top
    px = lambda x: L + (W - L - R) * x / xmax                          # noqa: E731
    py = lambda y: T + (H - T - B) * (1 - (min(y, y1) - y0) / (y1 - y0))   # noqa: E731
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{L}" y="14" font-weight="bold">{title}</text>']
    for i in range(6):                                                 # grid and ticks
        x, y = xmax * i / 5, y0 + (y1 - y0) * i / 5
        out.append(f'<line x1="{px(x):.1f}" y1="{T}" x2="{px(x):.1f}" y2="{H - B}" stroke="#ddd"/>'
                   f'<text x="{px(x):.1f}" y="{H - B + 16}" text-anchor="middle">{x:.0f}</text>')
        out.append(f'<line x1="{L}" y1="{py(y):.1f}" x2="{W - R}" y2="{py(y):.1f}" stroke="#ddd"/>'
                   f'<text x="{L - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{y:.1f}</text>')
    out.append(f'<text x="{(L + W - R) / 2}" y="{H - 8}" text-anchor="middle">training tokens (millions)</text>')
    out.append(f'<text x="14" y="{(T + H - B) / 2}" transform="rotate(-90 14 {(T + H - B) / 2})" text-anchor="middle">'
               'training loss (nats/token, running mean)</text>')
    for i, (name, x, y) in enumerate(curves):
        c = COLOURS[i % len(COLOURS)]
        pts = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in zip(x, y))
        out.append(f'<polyline fill="none" stroke="{c}" stroke-width="1.6" points="{pts}"/>')
        out.append(f'<line x1="{W - R + 10}" y1="{T + 10 + 18 * i}" x2="{W - R + 30}" y2="{T + 10 + 18 * i}" stroke="{c}" stroke-width="3"/>'
                   f'<text x="{W - R + 36}" y="{T + 14 + 18 * i}">{name} ({y[-1]:.2f})</text>')
    out.append("</svg>")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--title", default="Training loss")
    ap.add_argument("--y-top", type=float, default=7.0)
    ap.add_argument("csvs", nargs="+")
    a = ap.parse_args()
    curves = [read(p) for p in a.csvs]
    curves = [c for c in curves if c[1]]
    with open(a.out, "w") as f:
        f.write(svg(curves, a.title, a.y_top))


if __name__ == "__main__":
    main()
