"""Independent PyTorch implementation of diffusers' UNet2DModel (a supported subset).

Written from diffusers' documented semantics; parameter names match what diffusers saves in
diffusion_pytorch_model.safetensors, so state dicts load in either direction.

Supported config (anything else raises ValueError naming the key and value):
  down blocks DownBlock2D / AttnDownBlock2D, up blocks UpBlock2D / AttnUpBlock2D, mid block
  UNetMidBlock2D (attention optional via add_attention), positional time embedding,
  class embedding via num_class_embeds (class_embed_type null), resnet_time_scale_shift "default",
  act_fn silu, conv down/upsampling, downsample_padding 1, dropout 0.

Forward semantics (per diffusers):
  t_emb = sinusoid(t) with half = block_out_channels[0] // 2,
          freq_k = exp(-ln(10000) * k / (half - freq_shift)), emb = [sin(t f), cos(t f)],
          flip_sin_to_cos -> [cos, sin]; computed in float32 (float64 if the model is float64)
  emb   = linear_2(silu(linear_1(t_emb))) + class_embedding[label]
  resnet: h = conv1(silu(norm1(x))) + time_emb_proj(silu(emb))[:, :, None, None]
          h = conv2(silu(norm2(h)));  out = (shortcut(x) + h) / output_scale_factor
  attention (one group_norm, heads = C // attention_head_dim, scale 1/sqrt(head_dim)):
          out = (to_out.0(softmax(q k^T * scale) v) + x) / rescale_output_factor
  downsample: conv3x3 stride 2 padding 1; upsample: nearest x2 then conv3x3 padding 1
  skips: conv_in output and every resnet/attention output and downsampler output are
  pushed; up-block resnets pop and concatenate [h, skip] along channels.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

SUPPORTED_DEFAULTS = {
    # key: allowed values (first = default when the key is missing)
    "center_input_sample": (False, True),
    "time_embedding_type": ("positional",),
    "time_embedding_dim": (None,),
    "act_fn": ("silu", "swish"),
    "mid_block_type": ("UNetMidBlock2D",),
    "downsample_padding": (1,),
    "downsample_type": ("conv",),
    "upsample_type": ("conv",),
    "dropout": (0.0, 0),
    "resnet_time_scale_shift": ("default",),
    "class_embed_type": (None,),
    "num_train_timesteps": (None,),
    "attn_norm_num_groups": (None,),
    "add_attention": (True, False),
}
KNOWN_KEYS = set(SUPPORTED_DEFAULTS) | {
    "_class_name", "_diffusers_version", "_name_or_path", "sample_size", "in_channels", "out_channels",
    "freq_shift", "flip_sin_to_cos", "down_block_types", "up_block_types", "block_out_channels",
    "layers_per_block", "mid_block_scale_factor", "attention_head_dim", "norm_num_groups", "norm_eps",
    "num_class_embeds",
}


def _bad(key, value):
    raise ValueError("unsupported UNet2DModel config: %s = %r" % (key, value))


def validate_config(cfg):
    """Return a normalised copy of a diffusers UNet2DModel config dict, or raise ValueError."""
    cfg = dict(cfg)
    for k in cfg:
        if k not in KNOWN_KEYS:
            _bad(k, cfg[k])
    if cfg.get("_class_name", "UNet2DModel") != "UNet2DModel":
        _bad("_class_name", cfg["_class_name"])
    for k, allowed in SUPPORTED_DEFAULTS.items():
        v = cfg.get(k, allowed[0])
        if v not in allowed or isinstance(v, bool) != isinstance(allowed[0], bool):
            _bad(k, v)
        cfg[k] = v
    cfg.setdefault("in_channels", 3)
    cfg.setdefault("out_channels", 3)
    cfg.setdefault("freq_shift", 0)
    cfg.setdefault("flip_sin_to_cos", True)
    cfg.setdefault("layers_per_block", 2)
    cfg.setdefault("mid_block_scale_factor", 1)
    cfg.setdefault("attention_head_dim", 8)
    cfg.setdefault("norm_num_groups", 32)
    cfg.setdefault("norm_eps", 1e-5)
    cfg.setdefault("num_class_embeds", None)
    boc = list(cfg.get("block_out_channels", (224, 448, 672, 896)))
    down = list(cfg.get("down_block_types", ("DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D")))
    up = list(cfg.get("up_block_types", ("AttnUpBlock2D", "AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D")))
    cfg["block_out_channels"], cfg["down_block_types"], cfg["up_block_types"] = boc, down, up
    for t in down:
        if t not in ("DownBlock2D", "AttnDownBlock2D"):
            _bad("down_block_types", t)
    for t in up:
        if t not in ("UpBlock2D", "AttnUpBlock2D"):
            _bad("up_block_types", t)
    if len(down) != len(up):
        _bad("up_block_types", up)
    if len(boc) != len(down) or not boc:
        _bad("block_out_channels", boc)
    for k in ("in_channels", "out_channels", "layers_per_block", "norm_num_groups"):
        v = cfg[k]
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            _bad(k, v)
    g = cfg["norm_num_groups"]
    for c in boc:
        if not isinstance(c, int) or c < 1 or c % g != 0:
            _bad("block_out_channels", boc)
    hd = cfg["attention_head_dim"]
    if hd is not None:
        if not isinstance(hd, int) or hd < 1:
            _bad("attention_head_dim", hd)
        for c in boc:
            if c % hd != 0:
                _bad("attention_head_dim", hd)
    if boc[0] % 2 != 0:
        _bad("block_out_channels", boc)
    if not isinstance(cfg["flip_sin_to_cos"], bool):
        _bad("flip_sin_to_cos", cfg["flip_sin_to_cos"])
    if not isinstance(cfg["freq_shift"], (int, float)) or isinstance(cfg["freq_shift"], bool):
        _bad("freq_shift", cfg["freq_shift"])
    nce = cfg["num_class_embeds"]
    if nce is not None and (not isinstance(nce, int) or nce < 1):
        _bad("num_class_embeds", nce)
    if not isinstance(cfg["mid_block_scale_factor"], (int, float)) or cfg["mid_block_scale_factor"] == 0:
        _bad("mid_block_scale_factor", cfg["mid_block_scale_factor"])
    if not isinstance(cfg["norm_eps"], (int, float)) or cfg["norm_eps"] <= 0:
        _bad("norm_eps", cfg["norm_eps"])
    return cfg


def timestep_embedding(timesteps, dim, flip_sin_to_cos, freq_shift, dtype=torch.float32):
    """Sinusoidal embedding [N, dim] of (possibly fractional) timesteps [N]."""
    half = dim // 2
    exponent = -math.log(10000) * torch.arange(half, dtype=dtype, device=timesteps.device)
    exponent = exponent / (half - freq_shift)
    freqs = torch.exp(exponent)
    args = timesteps[:, None].to(dtype) * freqs[None, :]
    sin, cos = torch.sin(args), torch.cos(args)
    emb = torch.cat([cos, sin], dim=-1) if flip_sin_to_cos else torch.cat([sin, cos], dim=-1)
    if dim % 2 == 1:
        emb = F.pad(emb, (0, 1))
    return emb


class TimestepEmbedding(nn.Module):
    def __init__(self, in_dim, dim):
        super().__init__()
        self.linear_1 = nn.Linear(in_dim, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class ResnetBlock2D(nn.Module):
    def __init__(self, cin, cout, temb, groups, eps, output_scale_factor=1.0):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=eps)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=eps)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None
        self.output_scale_factor = output_scale_factor

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(F.silu(emb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        if self.conv_shortcut is not None:
            x = self.conv_shortcut(x)
        out = x + h
        if self.output_scale_factor != 1:
            out = out / self.output_scale_factor
        return out


_HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


class Attention(nn.Module):
    """Spatial self-attention block (diffusers Attention built with _from_deprecated_attn_block)."""

    use_sdpa = True  # class-wide switch; the manual path is used when unavailable

    def __init__(self, channels, head_dim, groups, eps, rescale_output_factor=1.0):
        super().__init__()
        self.heads = channels // head_dim
        self.head_dim = head_dim
        self.group_norm = nn.GroupNorm(groups, channels, eps=eps)
        self.to_q = nn.Linear(channels, channels)
        self.to_k = nn.Linear(channels, channels)
        self.to_v = nn.Linear(channels, channels)
        self.to_out = nn.ModuleList([nn.Linear(channels, channels)])
        self.rescale_output_factor = rescale_output_factor

    def forward(self, x):
        b, c, hh, ww = x.shape
        h = self.group_norm(x).view(b, c, hh * ww).transpose(1, 2)  # [b, L, c]
        q, k, v = self.to_q(h), self.to_k(h), self.to_v(h)
        split = lambda t: t.view(b, -1, self.heads, self.head_dim).transpose(1, 2)  # [b, H, L, d]
        q, k, v = split(q), split(k), split(v)
        if _HAS_SDPA and Attention.use_sdpa:
            o = F.scaled_dot_product_attention(q, k, v)
        else:
            scores = torch.matmul(q, k.transpose(-1, -2)) * (self.head_dim ** -0.5)
            probs = scores.float().softmax(dim=-1).to(v.dtype)  # upcast_softmax
            o = torch.matmul(probs, v)
        o = o.transpose(1, 2).reshape(b, hh * ww, c)
        o = self.to_out[0](o).transpose(1, 2).reshape(b, c, hh, ww)
        out = o + x
        if self.rescale_output_factor != 1:
            out = out / self.rescale_output_factor
        return out


class Downsample2D(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class Upsample2D(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        dtype = x.dtype
        if dtype == torch.bfloat16:  # nearest upsampling of bf16 is missing in older torch
            x = x.float()
        x = F.interpolate(x, scale_factor=2.0, mode="nearest").to(dtype)
        return self.conv(x)


class DownBlock(nn.Module):
    def __init__(self, with_attn, layers, cin, cout, temb, groups, eps, head_dim, add_downsample):
        super().__init__()
        self.resnets = nn.ModuleList(
            [ResnetBlock2D(cin if i == 0 else cout, cout, temb, groups, eps) for i in range(layers)])
        if with_attn:
            self.attentions = nn.ModuleList(
                [Attention(cout, head_dim if head_dim is not None else cout, groups, eps) for _ in range(layers)])
        else:
            self.attentions = None
        self.downsamplers = nn.ModuleList([Downsample2D(cout)]) if add_downsample else None

    def forward(self, x, emb):
        skips = []
        for i, res in enumerate(self.resnets):
            x = res(x, emb)
            if self.attentions is not None:
                x = self.attentions[i](x)
            skips.append(x)
        if self.downsamplers is not None:
            x = self.downsamplers[0](x)
            skips.append(x)
        return x, skips


class UpBlock(nn.Module):
    def __init__(self, with_attn, layers, cin, prev_out, cout, temb, groups, eps, head_dim, add_upsample):
        super().__init__()
        res = []
        for i in range(layers):
            skip_ch = cin if i == layers - 1 else cout
            in_ch = prev_out if i == 0 else cout
            res.append(ResnetBlock2D(in_ch + skip_ch, cout, temb, groups, eps))
        self.resnets = nn.ModuleList(res)
        if with_attn:
            self.attentions = nn.ModuleList(
                [Attention(cout, head_dim if head_dim is not None else cout, groups, eps) for _ in range(layers)])
        else:
            self.attentions = None
        self.upsamplers = nn.ModuleList([Upsample2D(cout)]) if add_upsample else None

    def forward(self, x, skips, emb):
        for i, res in enumerate(self.resnets):
            x = torch.cat([x, skips.pop()], dim=1)
            x = res(x, emb)
            if self.attentions is not None:
                x = self.attentions[i](x)
        if self.upsamplers is not None:
            x = self.upsamplers[0](x)
        return x


class MidBlock(nn.Module):
    def __init__(self, ch, temb, groups, eps, head_dim, scale, add_attention):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(ch, ch, temb, groups, eps, scale) for _ in range(2)])
        if add_attention:
            self.attentions = nn.ModuleList(
                [Attention(ch, head_dim if head_dim is not None else ch, groups, eps, scale)])
        else:
            self.attentions = None

    def forward(self, x, emb):
        x = self.resnets[0](x, emb)
        if self.attentions is not None:
            x = self.attentions[0](x)
        return self.resnets[1](x, emb)


class UNet2DModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        cfg = validate_config(config)
        self.config = cfg
        boc = cfg["block_out_channels"]
        g, eps, hd = cfg["norm_num_groups"], float(cfg["norm_eps"]), cfg["attention_head_dim"]
        temb = boc[0] * 4
        self.conv_in = nn.Conv2d(cfg["in_channels"], boc[0], 3, padding=1)
        self.time_embedding = TimestepEmbedding(boc[0], temb)
        nce = cfg["num_class_embeds"]
        self.class_embedding = nn.Embedding(nce, temb) if nce is not None else None
        self.down_blocks = nn.ModuleList()
        out_ch = boc[0]
        for i, t in enumerate(cfg["down_block_types"]):
            in_ch, out_ch = out_ch, boc[i]
            self.down_blocks.append(DownBlock(t == "AttnDownBlock2D", cfg["layers_per_block"], in_ch, out_ch,
                                              temb, g, eps, hd, i != len(boc) - 1))
        self.mid_block = MidBlock(boc[-1], temb, g, eps, hd, float(cfg["mid_block_scale_factor"]),
                                  cfg["add_attention"])
        rev = list(reversed(boc))
        self.up_blocks = nn.ModuleList()
        out_ch = rev[0]
        for i, t in enumerate(cfg["up_block_types"]):
            prev, out_ch = out_ch, rev[i]
            in_ch = rev[min(i + 1, len(boc) - 1)]
            self.up_blocks.append(UpBlock(t == "AttnUpBlock2D", cfg["layers_per_block"] + 1, in_ch, prev, out_ch,
                                          temb, g, eps, hd, i != len(boc) - 1))
        self.conv_norm_out = nn.GroupNorm(g, boc[0], eps=eps)
        self.conv_out = nn.Conv2d(boc[0], cfg["out_channels"], 3, padding=1)

    def forward(self, sample, timestep, class_labels=None):
        cfg = self.config
        if cfg["center_input_sample"]:
            sample = 2 * sample - 1.0
        n = sample.shape[0]
        t = timestep
        if not torch.is_tensor(t):
            t = torch.tensor([t], device=sample.device)
        t = t.to(sample.device).reshape(-1)
        if t.numel() == 1 and n != 1:
            t = t.expand(n)
        wdtype = self.conv_in.weight.dtype
        tdtype = torch.float64 if wdtype == torch.float64 else torch.float32
        t_emb = timestep_embedding(t, cfg["block_out_channels"][0], cfg["flip_sin_to_cos"], cfg["freq_shift"], tdtype)
        emb = self.time_embedding(t_emb.to(wdtype))
        if self.class_embedding is not None:
            if class_labels is None:
                raise ValueError("class_labels should be provided when doing class conditioning")
            emb = emb + self.class_embedding(class_labels.to(sample.device).long()).to(emb.dtype)
        elif class_labels is not None:
            raise ValueError("class_labels given but the model has no class embedding")
        x = self.conv_in(sample)
        skips = [x]
        for blk in self.down_blocks:
            x, s = blk(x, emb)
            skips.extend(s)
        x = self.mid_block(x, emb)
        for blk in self.up_blocks:
            x = blk(x, skips, emb)
        x = self.conv_out(F.silu(self.conv_norm_out(x)))
        return x


def load_config(path):
    import json
    with open(path) as f:
        return json.load(f)


def load_model_dir(model_dir, device="cpu", dtype=torch.float32):
    """Build from <dir>/config.json and load <dir>/diffusion_pytorch_model.safetensors (strict)."""
    import os
    import safetensors_io
    cfg = load_config(os.path.join(model_dir, "config.json"))
    model = UNet2DModel(cfg)
    tensors, _ = safetensors_io.load_file(os.path.join(model_dir, "diffusion_pytorch_model.safetensors"))
    sd = {k: v.to(torch.float32) for k, v in tensors.items()}
    model.load_state_dict(sd, strict=True)
    return model.to(device=device, dtype=dtype).eval()
