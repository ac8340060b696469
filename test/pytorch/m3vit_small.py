#!/usr/bin/env python3
"""A PyTorch M3ViT built from the paper's semantics, for checking m3vit-gen against PyTorch.

Module names follow the M3ViT training code's state dict (backbone.*, decoders.<task>.*),
so that its state dict goes through tools/export_m3vit.py and the importer exactly like a
trained checkpoint. What it computes (shared/reference/m3vit-model.md):

  * ViT backbone: conv patch embedding, class token, positional embedding, pre-norm blocks
    (LayerNorm eps 1e-6), qkv [3D, D] with bias split into heads, scaled softmax attention;
  * dense MLP (fc1, exact-erf GELU, fc2) in even blocks, MoE in odd blocks;
  * MoE: one gate per task, w_gate [D, E]; p = softmax(x @ w_gate) over ALL experts; keep the
    top-k probabilities as they are (no renormalisation); experts in fastmoe layout
    htoh4 [E, H, D] / h4toh [E, D, H] with GELU; output = sum of p_e * expert_e(x);
  * heads: drop the class token, LayerNorm, then either the UpHead (log2(patch) stages of
    conv3x3 + BatchNorm (eval) + ReLU, 2x bilinear upsample (align_corners=False) after every
    stage but the last, conv1x1, final 2x upsample) or a linear head (Linear per patch token).

Commands (all tensors in .npy files):
  build SPEC --seed S --out model.pth [--wrapped-out W.pth] [--tam] [--shards DIR --ranks R]
      random model with non-trivial biases, LayerNorm affine and BatchNorm running
      statistics; --wrapped-out also saves {"model": {"module." + key: ...}, "epoch": ...}
      like a data-parallel training run; --tam adds a training-only tam_model; --shards writes the training code's {rank}.pth folder
      (rank r keeps experts [r*E/R, (r+1)*E/R); rank 0 also holds everything else).
  run SPEC --weights model.pth|weights.safetensors --images x.npy --out-dir DIR [--double]
      loads the state dict (a .pth strictly; a .safetensors file from m3vit-gen
      export-weights with strict=False, as its users would) and writes DIR/<task>.npy, the outputs of every image
      ([n, C, H, W] for the UpHead, [n, patches, C] for the linear head).

SPEC is JSON: {"image": [H, W], "patch": P, "dim": D, "depth": L, "heads": h,
"mlp_ratio": r, "experts": E, "top_k": k, "expert_hidden": He, "bn_eps": 1e-5,
"tasks": [{"name": ..., "channels": C, "head": "uphead" | "linear", "head_channels": 256}]}.
"""
import argparse
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, d = x.shape
        hd = d // self.heads
        # Rows of qkv: all Q, then all K, then all V; each split by head.
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hd)
        out = torch.matmul(scores.softmax(dim=-1), v)
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class DenseMlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x, task):
        return self.fc2(F.gelu(self.fc1(x)))


class ExpertLinear(nn.Module):
    """E independent linear maps, weight [E, out, in] (fastmoe's layout)."""

    def __init__(self, experts, inp, out):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(experts, out, inp))
        self.bias = nn.Parameter(torch.empty(experts, out))

    def apply_expert(self, e, x):
        return x @ self.weight[e].t() + self.bias[e]


class Experts(nn.Module):
    def __init__(self, experts, dim, hidden):
        super().__init__()
        self.htoh4 = ExpertLinear(experts, dim, hidden)
        self.h4toh = ExpertLinear(experts, hidden, dim)

    def forward(self, e, x):
        return self.h4toh.apply_expert(e, F.gelu(self.htoh4.apply_expert(e, x)))


class Gate(nn.Module):
    def __init__(self, dim, experts):
        super().__init__()
        self.w_gate = nn.Parameter(torch.empty(dim, experts))


class MoeMlp(nn.Module):
    def __init__(self, dim, hidden, experts, top_k, tasks):
        super().__init__()
        self.top_k = top_k
        self.experts = Experts(experts, dim, hidden)
        self.gate = nn.ModuleList([Gate(dim, experts) for _ in range(tasks)])

    def forward(self, x, task):
        b, n, d = x.shape
        flat = x.reshape(b * n, d)
        probs = (flat @ self.gate[task].w_gate).softmax(dim=-1)
        top_p, top_e = probs.topk(self.top_k, dim=-1)  # kept as full-softmax probabilities
        out = torch.zeros_like(flat)
        for e in range(self.experts.htoh4.weight.shape[0]):
            rows, slot = (top_e == e).nonzero(as_tuple=True)
            if rows.numel() == 0:
                continue
            out[rows] += top_p[rows, slot].unsqueeze(1) * self.experts(e, flat[rows])
        return out.view(b, n, d)


class Block(nn.Module):
    def __init__(self, dim, heads, mlp):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = mlp

    def forward(self, x, task):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x), task)


class PatchEmbed(nn.Module):
    def __init__(self, patch, dim):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)


class Backbone(nn.Module):
    def __init__(self, s):
        super().__init__()
        d = s["dim"]
        gh, gw = s["image"][0] // s["patch"], s["image"][1] // s["patch"]
        self.patch_embed = PatchEmbed(s["patch"], d)
        self.cls_token = nn.Parameter(torch.empty(1, 1, d))
        self.pos_embed = nn.Parameter(torch.empty(1, gh * gw + 1, d))
        blocks = []
        for i in range(s["depth"]):
            if i % 2 == 1:
                mlp = MoeMlp(d, s["expert_hidden"], s["experts"], s["top_k"], len(s["tasks"]))
            else:
                mlp = DenseMlp(d, int(s["mlp_ratio"] * d))
            blocks.append(Block(d, s["heads"], mlp))
        self.blocks = nn.Sequential(*blocks)

    def forward(self, img, task):
        x = self.patch_embed.proj(img).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x, task)
        return x


class UpHead(nn.Module):
    def __init__(self, s, channels, head_channels):
        super().__init__()
        d = s["dim"]
        self.grid = (s["image"][0] // s["patch"], s["image"][1] // s["patch"])
        self.stages = int(round(math.log2(s["patch"])))
        self.norm = nn.LayerNorm(d, eps=1e-6)
        for i in range(self.stages):
            setattr(self, "conv_%d" % i, nn.Conv2d(d if i == 0 else head_channels, head_channels, 3, padding=1))
            setattr(self, "syncbn_fc_%d" % i, nn.BatchNorm2d(head_channels, eps=s.get("bn_eps", 1e-5)))
        setattr(self, "conv_%d" % self.stages, nn.Conv2d(head_channels, channels, 1))

    def forward(self, x):
        x = self.norm(x[:, 1:])
        x = x.transpose(1, 2).reshape(x.shape[0], x.shape[2], *self.grid)
        for i in range(self.stages):
            x = F.relu(getattr(self, "syncbn_fc_%d" % i)(getattr(self, "conv_%d" % i)(x)))
            if i < self.stages - 1:
                x = F.interpolate(x, size=(2 * x.shape[2], 2 * x.shape[3]), mode="bilinear", align_corners=False)
        x = getattr(self, "conv_%d" % self.stages)(x)
        return F.interpolate(x, size=(2 * x.shape[2], 2 * x.shape[3]), mode="bilinear", align_corners=False)


class LinearHead(nn.Module):
    def __init__(self, s, channels):
        super().__init__()
        self.norm = nn.LayerNorm(s["dim"], eps=1e-6)
        self.linear = nn.Linear(s["dim"], channels)

    def forward(self, x):
        return self.linear(self.norm(x[:, 1:]))


class MultiTaskM3ViT(nn.Module):
    def __init__(self, s, tam=False):
        super().__init__()
        self.tasks = [t["name"] for t in s["tasks"]]
        self.backbone = Backbone(s)
        self.decoders = nn.ModuleDict()
        for t in s["tasks"]:
            if t.get("head", "uphead") == "uphead":
                self.decoders[t["name"]] = UpHead(s, t["channels"], t.get("head_channels", 256))
            else:
                self.decoders[t["name"]] = LinearHead(s, t["channels"])
        if tam:
            # A training-only module some M3ViT runs carry (task-affinity); never used at inference.
            self.tam_model = nn.Linear(4, 4)

    def forward(self, img, task):
        return self.decoders[self.tasks[task]](self.backbone(img, task))


def randomise(model, seed):
    """Non-trivial values everywhere, at scales that keep activations O(1) and gate choices clear."""
    g = torch.Generator().manual_seed(seed)

    def normal(p, std, mean=0.0):
        with torch.no_grad():
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64).to(p.dtype) * std + mean)

    for name, p in model.named_parameters():
        leaf = name.rsplit(".", 1)[-1]
        if "norm" in name and leaf == "weight":
            normal(p, 0.1, 1.0)
        elif name.endswith("w_gate"):
            normal(p, 1.0 / math.sqrt(p.shape[0]) * 2.0)
        elif leaf == "bias" or name.endswith("cls_token") or name.endswith("pos_embed"):
            normal(p, 0.05)
        else:
            fan_in = p[0].numel() if p.dim() >= 2 else p.numel()
            if "experts" in name:
                fan_in = p.shape[2]
            normal(p, 1.0 / math.sqrt(fan_in))
    for name, m in model.named_modules():
        if isinstance(m, nn.BatchNorm2d):
            normal(m.weight, 0.2, 1.0)
            normal(m.bias, 0.1)
            normal(m.running_mean, 0.3)
            with torch.no_grad():
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g, dtype=torch.float64).to(torch.float32) * 1.5 + 0.5)
                m.num_batches_tracked.fill_(1234)


def build(args):
    spec = json.load(open(args.spec))
    torch.manual_seed(args.seed)
    model = MultiTaskM3ViT(spec, tam=args.tam)
    randomise(model, args.seed)
    sd = model.state_dict()
    if args.out:
        torch.save(sd, args.out)
    if args.wrapped_out:
        torch.save({"model": {"module." + k: v for k, v in sd.items()}, "epoch": 7}, args.wrapped_out)
    if args.shards:
        ranks, experts = args.ranks, spec["experts"]
        if experts % ranks:
            sys.exit("experts must divide by ranks")
        os.makedirs(args.shards, exist_ok=True)
        per = experts // ranks
        for r in range(ranks):
            part = {}
            for k, v in sd.items():
                if ".mlp.experts." in k:
                    part[k] = v[r * per:(r + 1) * per].clone()
                elif r == 0:
                    part[k] = v
            torch.save(part, os.path.join(args.shards, "%d.pth" % r))


SAFETENSORS_DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64}


def read_safetensors(path):
    """A minimal safetensors reader (the safetensors package is not assumed)."""
    import struct

    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        dtype = SAFETENSORS_DTYPES[e["dtype"]]
        t = torch.frombuffer(bytearray(data[b:end]), dtype=dtype) if end > b else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(e["shape"])
    return out


def load_model(spec, weights, dtype):
    """A .pth state dict loads strictly; a .safetensors file from m3vit-gen export-weights loads
    with strict=False, and the only keys it may lack are BatchNorm's num_batches_tracked."""
    if weights.endswith(".safetensors"):
        sd = read_safetensors(weights)
        model = MultiTaskM3ViT(spec)
        missing, unexpected = model.load_state_dict(sd, strict=False)
        bad = [k for k in missing if not k.endswith("num_batches_tracked")] + list(unexpected)
        if bad:
            sys.exit("state dict mismatch: %s" % ", ".join(bad))
    else:
        sd = torch.load(weights, map_location="cpu")
        model = MultiTaskM3ViT(spec, tam=any(k.startswith("tam_model") for k in sd))
        model.load_state_dict(sd, strict=True)
    return model.to(dtype).eval()


def run(args):
    import numpy as np

    spec = json.load(open(args.spec))
    dtype = torch.float64 if args.double else torch.float32
    model = load_model(spec, args.weights, dtype)
    images = torch.from_numpy(np.load(args.images)).to(dtype)
    os.makedirs(args.out_dir, exist_ok=True)
    with torch.no_grad():
        for ti, t in enumerate(model.tasks):
            out = model(images, ti)
            np.save(os.path.join(args.out_dir, "%s.npy" % t), out.to(torch.float64).numpy())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("spec")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--out")
    b.add_argument("--wrapped-out")
    b.add_argument("--tam", action="store_true")
    b.add_argument("--shards")
    b.add_argument("--ranks", type=int, default=2)
    r = sub.add_parser("run")
    r.add_argument("spec")
    r.add_argument("--weights", required=True)
    r.add_argument("--images", required=True)
    r.add_argument("--out-dir", required=True)
    r.add_argument("--double", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    build(args) if args.cmd == "build" else run(args)


if __name__ == "__main__":
    main()
