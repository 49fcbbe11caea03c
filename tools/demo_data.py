"""Deterministic generator of the demo data set (32x32 RGB coloured shapes).

Classes (index: shape, colour):
  0 red circle,   1 green circle,   2 blue circle,
  3 red square,   4 green square,   5 blue square,
  6 red triangle, 7 green triangle, 8 blue triangle;
  9 = null class (classifier-free guidance only, never produced here).
label = 3 * shape + colour, shape 0 circle / 1 square / 2 triangle, colour 0 R / 1 G / 2 B.

One filled shape on black. Named channel uniform in [0.8, 1.0], the other two channels
each uniform in [0.0, 0.2] (one colour per image). Size s uniform in [5, 11] px: circle
radius, square half-side, circumradius of an upright (apex up) equilateral triangle. Centre
uniform over the positions where the whole shape fits in [0, 32] x [0, 32]. Hard edges,
evaluated at pixel centres (j + 0.5, i + 0.5). Pixels scaled to [-1, 1] (background -1).

Determinism: the random parameters of batch `index` come from a CPU torch.Generator seeded
with batch_seed(seed, index); rasterisation is plain float32 arithmetic on the target device.

CLI: /usr/bin/python3 tools/demo_data.py --seed 0 --index 0 --n 90 --out /tmp/demo.png
"""
import argparse
import hashlib
import math
import os
import sys

import torch

SIZE = 32
NUM_CLASSES = 9
NULL_CLASS = 9
SHAPES = ("circle", "square", "triangle")
COLOURS = ("red", "green", "blue")
CLASS_NAMES = tuple("%s %s" % (c, s) for s in SHAPES for c in COLOURS)
SQRT3 = math.sqrt(3.0)


def batch_seed(seed, index, stream=0):
    """63-bit seed derived from (seed, index, stream) with SHA-256 (stable everywhere)."""
    h = hashlib.sha256(("demo-data:%d:%d:%d" % (seed, index, stream)).encode()).digest()
    return int.from_bytes(h[:8], "little") & ((1 << 63) - 1)


def make_params(seed, index, n, labels=None):
    """Random parameters (CPU, float64): dict of labels, colour [n,3], size, cx, cy."""
    g = torch.Generator()
    g.manual_seed(batch_seed(seed, index))
    drawn = torch.randint(0, NUM_CLASSES, (n,), generator=g, dtype=torch.int64)
    u = torch.rand((n, 6), generator=g, dtype=torch.float64)
    if labels is None:
        labels = drawn
    else:
        labels = torch.as_tensor(labels, dtype=torch.int64).cpu().reshape(n)
        if labels.min() < 0 or labels.max() >= NUM_CLASSES:
            raise ValueError("labels must be in 0..8")
    shape = labels // 3
    colour = labels % 3
    named = 0.8 + 0.2 * u[:, 0]
    others = 0.2 * u[:, 1:3]
    col = torch.zeros((n, 3), dtype=torch.float64)
    # named channel gets `named`; the other two (in increasing channel order) get `others`
    for c in range(3):
        sel = colour == c
        rest = [k for k in range(3) if k != c]
        col[sel, c] = named[sel]
        col[sel, rest[0]] = others[sel, 0]
        col[sel, rest[1]] = others[sel, 1]
    s = 5.0 + 6.0 * u[:, 3]
    # extents of the shape around its centre: left/right (x), up (y-) and down (y+)
    ext_x = torch.where(shape == 2, s * (SQRT3 / 2.0), s)
    ext_up = s
    ext_down = torch.where(shape == 2, s / 2.0, s)
    cx = ext_x + u[:, 4] * (SIZE - 2.0 * ext_x)
    cy = ext_up + u[:, 5] * (SIZE - ext_up - ext_down)
    return {"labels": labels, "shape": shape, "colour": col, "size": s, "cx": cx, "cy": cy}


def rasterise(params, device="cpu"):
    """Render parameters to images [n,3,32,32] float32 in [-1,1] on `device`."""
    dev = torch.device(device)
    n = params["labels"].shape[0]
    s = params["size"]
    # all per-image numbers in one float32 tensor -> a single host-to-device copy
    packed = torch.stack([
        params["shape"].to(torch.float64), params["cx"], params["cy"], s * s, s,
        params["cy"] + s / 2.0, params["cy"] - s,
        params["colour"][:, 0], params["colour"][:, 1], params["colour"][:, 2],
    ], dim=1).to(torch.float32).to(dev)
    col = lambda k: packed[:, k].view(n, 1, 1)
    shape, cx, cy, r2, half, tri_bottom, tri_top = (col(k) for k in range(7))
    pc = torch.arange(SIZE, dtype=torch.float32, device=dev) + 0.5
    px = pc.view(1, 1, SIZE)
    py = pc.view(1, SIZE, 1)
    dx = px - cx
    dy = py - cy
    circle = dx * dx + dy * dy <= r2
    square = (dx.abs() <= half) & (dy.abs() <= half)
    triangle = (py <= tri_bottom) & (dx.abs() * SQRT3 <= py - tri_top)
    mask = torch.where(shape == 0, circle, torch.where(shape == 1, square, triangle))
    img = mask.unsqueeze(1).to(torch.float32) * packed[:, 7:10].view(n, 3, 1, 1)
    return img * 2.0 - 1.0


def make_batch(seed, index, n, device="cpu", labels=None):
    """Batch `index` of the data stream `seed`: (images [n,3,32,32] f32 in [-1,1], labels [n] i64)."""
    p = make_params(seed, index, n, labels)
    return rasterise(p, device), p["labels"].to(device)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Dump a PNG grid of the demo data set.")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--index", type=int, default=0)
    ap.add_argument("--n", type=int, default=90)
    ap.add_argument("--sorted", action="store_true", help="10 columns, one row per class (n per class = n/9)")
    ap.add_argument("--scale", type=int, default=2)
    ap.add_argument("--out", default="demo_data.png")
    a = ap.parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import pngio
    labels = None
    ncol = 10
    if a.sorted:
        per = max(1, a.n // NUM_CLASSES)
        labels = torch.arange(NUM_CLASSES).repeat_interleave(per)
        a.n = labels.numel()
        ncol = per
    x, y = make_batch(a.seed, a.index, a.n, "cpu", labels)
    pngio.save_grid(a.out, x, ncol=ncol, scale=a.scale)
    print("wrote %s (%d images, labels %s...)" % (a.out, a.n, y[:20].tolist()))


if __name__ == "__main__":
    main()
