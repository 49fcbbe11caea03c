"""Reference vectors for the Java port of the class checker (tools/checker.py).

Writes sampler/src/test/resources/vectors/checker/checker.safetensors: `images` [N,3,32,32] F32 in [-1,1]
and `pred` [N] I64, the classes tools/checker.py assigns. The images are demo_data images (10 per
class), the same images with Gaussian noise of growing strength (so that some land on rule
boundaries and on "none"), and near-blank images.

  /usr/bin/python3 tools/make_checker_vectors.py
"""
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import checker  # noqa: E402
import demo_data  # noqa: E402
from safetensors_io import save_file  # noqa: E402

OUT = os.path.join(os.path.dirname(HERE), "sampler", "src", "test", "resources", "vectors", "checker", "checker.safetensors")


def main():
    labels = torch.arange(9).repeat_interleave(10)
    clean, _ = demo_data.make_batch(4242, 0, labels.numel(), "cpu", labels)
    g = torch.Generator().manual_seed(77)
    parts = [clean]
    for s in (0.2, 0.5, 0.9):
        parts.append((clean + s * torch.randn(clean.shape, generator=g)).clamp(-1, 1))
    blank = torch.full((6, 3, 32, 32), -1.0)
    blank[1, 0, 5, 5:15] = 0.5          # 10 bright pixels: below the minimum
    blank[2, 1, 3:7, 3:6] = 0.9         # 12 bright pixels, full box: green square
    blank[3, 2, 10, 10:22] = 0.2        # a line: square fill ratio
    blank[4, :, 0:2, 0:6] = 0.3         # channel tie: lowest index (red)
    blank[5] = torch.randn((3, 32, 32), generator=g)
    parts.append(blank)
    images = torch.cat(parts).float().contiguous()
    pred = checker.check(images)
    save_file({"images": images, "pred": pred.long()}, OUT,
              metadata={"source": "tools/make_checker_vectors.py: tools/checker.py on demo_data images, noisy variants and edge cases"})
    print("wrote %s: %d images, %d none, classes %s" % (OUT, images.shape[0], int((pred < 0).sum()),
                                                      torch.bincount(pred[pred >= 0], minlength=9).tolist()))


if __name__ == "__main__":
    main()
