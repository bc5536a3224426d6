"""Loss curves (training loss against tokens) from train.py's loss.csv files: one PNG."""
import argparse
import csv
import os

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("csvs", nargs="+")
    a = ap.parse_args()
    fig, ax = plt.subplots(figsize=(8, 5))
    for path in a.csvs:
        rows = list(csv.DictReader(open(path)))
        if not rows:
            continue
        tokens = [int(r["tokens"]) / 1e6 for r in rows]
        loss = [float(r["loss"]) for r in rows]
        k = 10                                   # a running mean: single steps are noisy
        smooth = [sum(loss[max(0, i - k):i + 1]) / len(loss[max(0, i - k):i + 1]) for i in range(len(loss))]
        ax.plot(tokens, smooth, label=os.path.basename(os.path.dirname(path)))
    ax.set_xlabel("training tokens (millions)")
    ax.set_ylabel("training loss (nats/token, running mean)")
    ax.set_ylim(top=4.5)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(a.out, dpi=110)


if __name__ == "__main__":
    main()
