"""Export a trained checkpoint (EMA weights) or a random-init model as a diffusers model directory.

Writes: config.json (the training config, i.e. models/demo/config.json),
        diffusion_pytorch_model.safetensors (float32, tensors sorted by name),
        scheduler_config.json (DDPMScheduler keys + set_alpha_to_one for DDIM).

  /usr/bin/python3 tools/export.py --ckpt RUN/ckpt_latest.pt --out models/demo
  /usr/bin/python3 tools/export.py --random-init 1 --out /tmp/random_model
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import diffusion  # noqa: E402
import safetensors_io  # noqa: E402
import unet  # noqa: E402

DEFAULT_CONFIG = os.path.join(os.path.dirname(HERE), "models", "demo", "config.json")


def load_checkpoint(path):
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except TypeError:
        return torch.load(path, map_location="cpu")


def config_text(config):
    """The bytes of models/demo/config.json when the config equals it, else pretty JSON."""
    try:
        with open(DEFAULT_CONFIG) as f:
            text = f.read()
        if json.loads(text) == config:
            return text
    except OSError:
        pass
    return json.dumps(config, indent=2) + "\n"


def write_model_dir(out, config, state_dict, metadata=None):
    os.makedirs(out, exist_ok=True)
    model = unet.UNet2DModel(config)  # validates config and the state dict (strict)
    model.load_state_dict(state_dict, strict=True)
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.state_dict().items()}
    with open(os.path.join(out, "config.json"), "w") as f:
        f.write(config_text(config))
    st_path = os.path.join(out, "diffusion_pytorch_model.safetensors")
    meta = {"format": "pt"}
    meta.update(metadata or {})
    safetensors_io.save_file(tensors, st_path, meta)
    with open(os.path.join(out, "scheduler_config.json"), "w") as f:
        json.dump(diffusion.SCHEDULER_CONFIG, f, indent=2)
        f.write("\n")
    return st_path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--ckpt", help="training checkpoint (tools/train.py)")
    src.add_argument("--random-init", type=int, metavar="SEED", help="export a randomly initialised model")
    ap.add_argument("--weights", choices=("ema", "model"), default="ema")
    ap.add_argument("--config", default=DEFAULT_CONFIG, help="config for --random-init")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    if a.ckpt:
        st = load_checkpoint(a.ckpt)
        config = st["config"]
        sd = st[a.weights]
        meta = {"source": "tools/export.py", "weights": a.weights, "step": str(st["step"]),
                "checkpoint_sha256": safetensors_io.sha256_file(a.ckpt)}
        fid = [e for e in st.get("curve", []) if e.get("fidelity") is not None]
        if fid:
            meta["last_eval_fidelity"] = repr(fid[-1]["fidelity"])
            meta["last_eval_step"] = str(fid[-1]["step"])
    else:
        with open(a.config) as f:
            config = json.load(f)
        torch.manual_seed(a.random_init)
        sd = unet.UNet2DModel(config).state_dict()
        # default init leaves biases of norms at 0/1; perturb every tensor so that parity tests
        # exercise all weights (norm affine params, biases)
        g = torch.Generator().manual_seed(a.random_init)
        sd = {k: v + 0.05 * torch.randn(v.shape, generator=g) for k, v in sd.items()}
        meta = {"source": "tools/export.py", "weights": "random-init", "seed": str(a.random_init)}
    path = write_model_dir(a.out, config, sd, meta)
    print("wrote %s (sha256 %s)" % (path, safetensors_io.sha256_file(path)))


if __name__ == "__main__":
    main()
