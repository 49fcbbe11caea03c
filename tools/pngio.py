"""Minimal PNG writer (zlib + struct only) and an image-grid helper.

No PIL: the tools must run with only torch and the standard library.
"""
import struct
import zlib

import torch


def _chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def write_png(path, rgb):
    """Write an 8-bit RGB PNG. rgb: uint8 tensor [H, W, 3] (any device)."""
    rgb = rgb.detach().to("cpu", torch.uint8).contiguous()
    if rgb.dim() != 3 or rgb.shape[2] != 3:
        raise ValueError("expected [H, W, 3] uint8, got shape %s" % (tuple(rgb.shape),))
    h, w, _ = rgb.shape
    raw = bytes(rgb.flatten().tolist())
    stride = w * 3
    # filter type 0 (None) in front of every scanline
    scan = b"".join(b"\x00" + raw[y * stride:(y + 1) * stride] for y in range(h))
    png = b"\x89PNG\r\n\x1a\n"
    png += _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += _chunk(b"IDAT", zlib.compress(scan, 9))
    png += _chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def to_uint8(images):
    """[N,3,H,W] float in [-1,1] -> [N,H,W,3] uint8 (round half to even, clamped)."""
    x = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round()
    return x.to(torch.uint8).permute(0, 2, 3, 1).contiguous()


def make_grid(images, ncol=10, pad=2, scale=2, pad_value=64):
    """[N,3,H,W] in [-1,1] -> uint8 [GH, GW, 3] grid, each image upscaled by `scale` (nearest)."""
    imgs = to_uint8(images)
    n, h, w, _ = imgs.shape
    if scale > 1:
        imgs = imgs.repeat_interleave(scale, dim=1).repeat_interleave(scale, dim=2)
        h, w = h * scale, w * scale
    ncol = max(1, min(ncol, n))
    nrow = (n + ncol - 1) // ncol
    grid = torch.full((nrow * (h + pad) + pad, ncol * (w + pad) + pad, 3), pad_value, dtype=torch.uint8)
    for i in range(n):
        r, c = divmod(i, ncol)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        grid[y:y + h, x:x + w] = imgs[i]
    return grid


def save_grid(path, images, ncol=10, pad=2, scale=2):
    write_png(path, make_grid(images, ncol=ncol, pad=pad, scale=scale))
