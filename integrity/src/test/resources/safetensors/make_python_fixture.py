#!/usr/bin/python3
"""Writes python_struct_json.safetensors: an independent, hand-rolled safetensors writer.

Made with Debian's /usr/bin/python3 (standard library only: struct + json; the safetensors
package is not installed) following the format description at
https://github.com/huggingface/safetensors#format and the layout of the Python library:
compact JSON with ensure_ascii=True, "__metadata__" first, header padded with spaces to a
multiple of 8 bytes. Run from this directory: /usr/bin/python3 make_python_fixture.py
SafetensorsCorpusTest.open_pythonWrittenFile_readsKnownValues asserts the values below.
"""
import json
import struct


def bf16(x):
    # Exact: every value used here is representable in bfloat16, so truncation is exact.
    return struct.pack('<I', struct.unpack('<I', struct.pack('<f', x))[0] >> 16)[:2]


tensors = [  # (name, dtype, shape, little-endian bytes)
    ('down.weight', 'F32', [2, 3], struct.pack('<6f', 0.0, -1.5, 3.25, 1024.0, 0.125, 0.1)),
    ('norm.bias', 'F16', [4], struct.pack('<4e', 1.0, -2.0, 0.333251953125, 65504.0)),
    ('emb.bf16', 'BF16', [3], b''.join(bf16(x) for x in (1.0, -0.5, 3.140625))),
    ('step_ids', 'I64', [2], struct.pack('<2q', -1, 2**40)),
    ('caf\u00e9.scale', 'F32', [], struct.pack('<f', 2.5)),
]
header = {'__metadata__': {'format': 'pt', 'source': 'python3 struct/json'}}
data = b''
for name, dtype, shape, raw in tensors:
    header[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': [len(data), len(data) + len(raw)]}
    data += raw
text = json.dumps(header, separators=(',', ':')).encode('utf-8')
text += b' ' * (-len(text) % 8)
with open('python_struct_json.safetensors', 'wb') as f:
    f.write(struct.pack('<Q', len(text)) + text + data)
