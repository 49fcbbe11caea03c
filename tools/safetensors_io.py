"""Reader and writer for the safetensors format (no dependency on the safetensors package).

Layout: 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON header
{name: {"dtype", "shape", "data_offsets": [begin, end]}, optional "__metadata__": {str: str}},
then the data buffer; offsets are relative to the start of the buffer.
The writer sorts tensors by name, stores them contiguous and little-endian with no gaps, and pads
the header with spaces to a multiple of 8 bytes.
"""
import hashlib
import json
import struct
import sys

import torch

_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool,
}
_NAMES = {v: k for k, v in _DTYPES.items()}


def _to_bytes(t):
    t = t.detach().to("cpu").contiguous()
    if t.dtype not in _NAMES:
        raise ValueError("unsupported dtype %s" % t.dtype)
    if sys.byteorder != "little" and t.element_size() > 1:
        raise RuntimeError("big-endian hosts are not supported")
    if t.numel() == 0:
        return b""
    flat = t.reshape(-1)
    if flat.dtype == torch.bool:
        flat = flat.to(torch.uint8)
    u8 = flat.view(torch.uint8) if flat.dtype != torch.uint8 else flat
    # copy into a bytearray-backed tensor (no numpy, no Python lists)
    out = bytearray(u8.numel())
    torch.frombuffer(out, dtype=torch.uint8).copy_(u8)
    return bytes(out)


def save_file(tensors, path, metadata=None):
    """Write dict name -> tensor. metadata: dict str -> str (stored as __metadata__)."""
    header = {}
    blobs = []
    off = 0
    for name in sorted(tensors):
        t = tensors[name]
        b = _to_bytes(t)
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise ValueError("metadata must map str to str")
        header = dict([("__metadata__", dict(metadata))] + list(header.items()))
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def load_file(path, device="cpu"):
    """Read a safetensors file: (dict name -> tensor, metadata dict or {})."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError("file too short")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise ValueError("header length %d exceeds file size" % n)
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", None) or {}
    base = 8 + n
    buf = bytearray(data[base:])
    out = {}
    for name, info in header.items():
        dt = _DTYPES.get(info["dtype"])
        if dt is None:
            raise ValueError("unsupported dtype %s for %s" % (info["dtype"], name))
        b, e = info["data_offsets"]
        shape = info["shape"]
        numel = 1
        for s in shape:
            numel *= s
        esize = torch.empty((), dtype=dt).element_size()
        if not (0 <= b <= e <= len(buf)) or e - b != numel * esize:
            raise ValueError("bad data_offsets for %s" % name)
        if numel == 0:
            t = torch.empty(shape, dtype=dt)
        else:
            raw = torch.frombuffer(buf, dtype=torch.uint8, offset=b, count=e - b).clone()
            t = (raw.view(dt) if dt != torch.bool else raw.to(torch.bool)).reshape(shape)
        out[name] = t.to(device)
    return out, meta


def sha256_file(path):
    """Lower-case hex SHA-256 of a file (the digests recorded in vector and model metadata)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
