"""Deterministic class checker for demo images (the exact rule is in tools/README.md).

Input: images [N,3,H,W] (or one [3,H,W]), values in [-1,1] (default) or [0,1]
(value_range="01"). Output: predicted class 0..8, or -1 ("none", always wrong).

  bright pixel : max over channels > T, T = 0 for [-1,1] input (0.5 for [0,1] input)
  count        : number of bright pixels; count < 12 -> -1
  colour       : argmax over channels c of sum over bright pixels of value[c]
                 (sum in float64; a tie picks the lowest channel index)
  box          : bounding box of the bright pixels, area = (xmax-xmin+1)*(ymax-ymin+1)
  shape        : 10*count >= 9*area  -> square   (fill ratio >= 0.90)
                 100*count >= 64*area -> circle  (0.64 <= fill ratio < 0.90)
                 otherwise            -> triangle (fill ratio < 0.64)
  class        : 3*shape + colour (shape 0 circle, 1 square, 2 triangle; colour 0 R, 1 G, 2 B)

CLI (verification on generated data):
  /usr/bin/python3 tools/checker.py --verify 900 --seed 12345
"""
import argparse
import os
import sys

import torch

MIN_BRIGHT = 12
SQUARE_NUM, SQUARE_DEN = 9, 10     # ratio >= 0.90
CIRCLE_NUM, CIRCLE_DEN = 64, 100   # ratio >= 0.64


def check_details(images, value_range="-11"):
    """Per image: dict tensors pred, count, area, colour, shape (all int64, CPU)."""
    x = images.detach()
    if x.dim() == 3:
        x = x.unsqueeze(0)
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError("expected [N,3,H,W], got %s" % (tuple(x.shape),))
    x = x.to("cpu", torch.float32)
    if value_range == "-11":
        thr = 0.0
    elif value_range == "01":
        thr = 0.5
    else:
        raise ValueError("value_range must be '-11' or '01'")
    n, _, h, w = x.shape
    bright = x.max(dim=1).values > thr                       # [n,h,w]
    count = bright.flatten(1).sum(1)                          # int64
    sums = (x.double() * bright.unsqueeze(1)).flatten(2).sum(2)  # [n,3] float64
    # argmax with lowest-index tie-break
    colour = torch.zeros(n, dtype=torch.int64)
    best = sums[:, 0].clone()
    for c in (1, 2):
        better = sums[:, c] > best
        colour[better] = c
        best = torch.where(better, sums[:, c], best)
    rows = bright.any(dim=2)                                  # [n,h]
    cols = bright.any(dim=1)                                  # [n,w]
    ar_h = torch.arange(h)
    ar_w = torch.arange(w)
    big = 1 << 30
    ymin = torch.where(rows, ar_h, torch.full_like(ar_h, big)).min(1).values
    ymax = torch.where(rows, ar_h, torch.full_like(ar_h, -1)).max(1).values
    xmin = torch.where(cols, ar_w, torch.full_like(ar_w, big)).min(1).values
    xmax = torch.where(cols, ar_w, torch.full_like(ar_w, -1)).max(1).values
    area = ((xmax - xmin + 1) * (ymax - ymin + 1)).clamp(min=0)
    square = SQUARE_DEN * count >= SQUARE_NUM * area
    circle = CIRCLE_DEN * count >= CIRCLE_NUM * area
    shape = torch.where(square, torch.ones_like(count), torch.where(circle, torch.zeros_like(count),
                                                                     torch.full_like(count, 2)))
    pred = 3 * shape + colour
    pred = torch.where(count < MIN_BRIGHT, torch.full_like(pred, -1), pred)
    return {"pred": pred, "count": count, "area": area, "colour": colour, "shape": shape}


def check(images, value_range="-11"):
    """Predicted classes (int64 [N], -1 = none)."""
    return check_details(images, value_range)["pred"]


def fidelity(images, labels, value_range="-11"):
    """Fraction of images whose checked class equals the label."""
    pred = check(images, value_range)
    return (pred == labels.detach().cpu().long()).double().mean().item()


def main(argv=None):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import demo_data
    ap = argparse.ArgumentParser(description="Verify the checker on generated data.")
    ap.add_argument("--verify", type=int, default=900, help="number of images (multiple of 9: balanced)")
    ap.add_argument("--seed", type=int, default=12345)
    a = ap.parse_args(argv)
    per = max(1, a.verify // 9)
    labels = torch.arange(9).repeat_interleave(per)
    x, y = demo_data.make_batch(a.seed, 0, labels.numel(), "cpu", labels)
    d = check_details(x)
    ok = d["pred"] == y
    ratio = d["count"].double() / d["area"].double()
    print("checker accuracy: %d/%d = %.4f" % (ok.sum().item(), y.numel(), ok.double().mean().item()))
    for s, name in enumerate(demo_data.SHAPES):
        r = ratio[(y // 3) == s]
        print("  %-8s fill ratio min %.4f max %.4f mean %.4f" % (name, r.min(), r.max(), r.mean()))
    print("  bright count min %d" % d["count"].min().item())
    bad = (~ok).nonzero().flatten().tolist()
    for i in bad[:20]:
        print("  wrong #%d label %d pred %d count %d area %d ratio %.4f"
              % (i, y[i], d["pred"][i], d["count"][i], d["area"][i], ratio[i]))


if __name__ == "__main__":
    main()
