"""Time one PyTorch forward of a UNet2DModel directory (the baseline for benchmarks/bench-unet.sh).

Loads the model through tools/unet.py (same weights as the Java benchmark), float32, eval mode,
torch.no_grad, torch.set_num_threads(--threads); inputs from a fixed seed. For each batch size it
runs --warmup untimed forwards, then --iters timed ones, and prints one line per batch size:

  torch batch=1 threads=2 mean_ms=24.512 median_ms=24.301 min_ms=23.950 iters=30

  /usr/bin/python3 tools/bench_torch.py --model-dir models/demo --batches 1,8 --threads 2
"""
import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import unet  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", default=os.path.join(os.path.dirname(HERE), "models", "demo"))
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--min-seconds", type=float, default=3.0, help="time at least this long per batch size")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    model = unet.load_model_dir(a.model_dir)
    cfg = model.config
    size = cfg.get("sample_size", 32)
    size = size if isinstance(size, int) else size[0]
    g = torch.Generator().manual_seed(42)
    for batch in [int(b) for b in a.batches.split(",")]:
        sample = torch.randn((batch, cfg["in_channels"], size, size), generator=g)
        t = torch.tensor([float((i * 997 + 13) % 1000) for i in range(batch)])
        labels = None
        if cfg.get("num_class_embeds"):
            labels = torch.tensor([i % cfg["num_class_embeds"] for i in range(batch)], dtype=torch.int64)
        with torch.no_grad():
            for _ in range(a.warmup):
                model(sample, t, labels)
            times = []
            start = time.perf_counter()
            while len(times) < a.iters or time.perf_counter() - start < a.min_seconds:
                t0 = time.perf_counter()
                model(sample, t, labels)
                times.append((time.perf_counter() - t0) * 1e3)
        print("torch batch=%d threads=%d mean_ms=%.3f median_ms=%.3f min_ms=%.3f iters=%d"
              % (batch, a.threads, statistics.mean(times), statistics.median(times), min(times), len(times)))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
