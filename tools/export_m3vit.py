#!/usr/bin/env python3
"""Convert an M3ViT PyTorch checkpoint into one .safetensors file for m3vit-gen.

    python3 tools/export_m3vit.py CHECKPOINT --out weights.safetensors

CHECKPOINT is either
  * a .pth/.pt file holding a state dict, or a dict with a 'model' or 'state_dict' entry, or
  * the training code's folder of {rank}.pth files (0.pth, 1.pth, ...): rank 0 holds the
    whole model, every rank holds its own slice of the experts; the expert tensors
    (keys containing "mlp.experts.") are concatenated along dim 0 in rank order.

Checkpoints are plain dicts of tensors, so the M3ViT code base need not be importable.
torch.load runs with weights_only=True where this PyTorch supports it (no pickled code is
executed); --trust-pickle turns that off for checkpoints that need it.

The file keeps the checkpoint's names (without the data-parallel "module." prefix) and
dtypes. Its metadata records the task order ("m3vit.tasks": the order of decoders.* in the
state dict, which is the order of the training code's task list and so the gate index of
each task), which m3vit-gen uses to give every task its own gate. The safetensors format is
written here directly; the safetensors package is not needed.

Exit codes: 0 written, 2 bad input (nothing written).
"""
import argparse
import ctypes
import inspect
import json
import os
import re
import struct
import sys

try:
    import torch
except ImportError:  # pragma: no cover - depends on the user's machine
    sys.stderr.write("export_m3vit.py: PyTorch is not installed for %s; run it where the model was trained\n" % sys.executable)
    sys.exit(2)


class ExportError(Exception):
    pass


def _dtype_names():
    names = {
        torch.float64: "F64",
        torch.float32: "F32",
        torch.float16: "F16",
        torch.bfloat16: "BF16",
        torch.int64: "I64",
        torch.int32: "I32",
        torch.int16: "I16",
        torch.int8: "I8",
        torch.uint8: "U8",
        torch.bool: "BOOL",
    }
    for attr, name in (("float8_e4m3fn", "F8_E4M3"), ("float8_e5m2", "F8_E5M2")):
        if hasattr(torch, attr):
            names[getattr(torch, attr)] = name
    return names


DTYPES = _dtype_names()
EXPERT_KEY = re.compile(r"(^|\.)mlp\.experts\.")
DECODER_KEY = re.compile(r"^decoders\.([^.]+)\.")
RANK_FILE = re.compile(r"^(\d+)\.pth$")


def load(path, trust_pickle):
    kwargs = {"map_location": "cpu"}
    if "weights_only" in inspect.signature(torch.load).parameters:
        kwargs["weights_only"] = not trust_pickle
    try:
        obj = torch.load(path, **kwargs)
    except Exception as e:  # torch raises several types for unreadable or unsafe files
        hint = "" if trust_pickle else " (if the file holds pickled objects other than tensors and you trust it, add --trust-pickle)"
        raise ExportError("%s: cannot load: %s%s" % (path, str(e).splitlines()[0] if str(e) else type(e).__name__, hint))
    return state_dict_of(obj, path)


def state_dict_of(obj, path):
    """The state dict inside a checkpoint: the object itself, or its 'model'/'state_dict' entry."""
    if not isinstance(obj, dict):
        raise ExportError("%s: holds a %s, not a state dict (a dict of tensors)" % (path, type(obj).__name__))
    for key in ("model", "state_dict"):
        inner = obj.get(key)
        if isinstance(inner, dict) and any(torch.is_tensor(v) for v in inner.values()):
            obj = inner
            break
    tensors = {}
    skipped = []
    for k, v in obj.items():
        if torch.is_tensor(v):
            tensors[str(k)] = v
        else:
            skipped.append(str(k))
    if not tensors:
        raise ExportError("%s: no tensors found (top-level keys: %s)" % (path, ", ".join(map(str, obj.keys())) or "none"))
    if skipped:
        sys.stderr.write("%s: skipped %d non-tensor entries: %s\n" % (path, len(skipped), ", ".join(skipped[:8]) + (" ..." if len(skipped) > 8 else "")))
    return tensors


def strip_module(sd, path):
    out = {}
    for k, v in sd.items():
        name = k
        while name.startswith("module."):
            name = name[len("module."):]
        if name in out:
            raise ExportError("%s: %s and another key are the same tensor once 'module.' is removed" % (path, k))
        out[name] = v
    return out


def rank_files(folder):
    ranks = []
    for f in os.listdir(folder):
        m = RANK_FILE.match(f)
        if m:
            ranks.append((int(m.group(1)), os.path.join(folder, f)))
    ranks.sort()
    if not ranks:
        raise ExportError("%s: a checkpoint folder must hold {rank}.pth files (0.pth, 1.pth, ...); found none" % folder)
    if [r for r, _ in ranks] != list(range(len(ranks))):
        raise ExportError("%s: rank files must be 0.pth .. %d.pth without gaps; found %s" % (folder, len(ranks) - 1, ", ".join("%d.pth" % r for r, _ in ranks)))
    return [p for _, p in ranks]


def merge_ranks(shards, paths):
    """Rank 0's state dict with every expert tensor replaced by the concatenation of all ranks' slices."""
    merged = dict(shards[0])
    experts = [k for k in shards[0] if EXPERT_KEY.search(k)]
    for k in experts:
        parts = []
        for sd, p in zip(shards, paths):
            if k not in sd:
                raise ExportError("%s: has no %s (every rank holds its slice of every expert tensor)" % (p, k))
            parts.append(sd[k])
        tails = {tuple(t.shape[1:]) for t in parts}
        if len(tails) != 1:
            raise ExportError("%s: rank slices differ beyond dim 0: %s" % (k, ", ".join(str(list(t.shape)) for t in parts)))
        merged[k] = torch.cat(parts, dim=0)
    for sd, p in zip(shards[1:], paths[1:]):
        extra = [k for k in sd if EXPERT_KEY.search(k) and k not in shards[0]]
        if extra:
            raise ExportError("%s: expert tensors missing from rank 0: %s" % (p, ", ".join(extra[:5])))
    return merged, len(experts)


def task_order(sd):
    order = []
    for k in sd:
        m = DECODER_KEY.match(k)
        if m and m.group(1) not in order:
            order.append(m.group(1))
    return order


def encode(sd, metadata):
    """safetensors: u64 little-endian header length, JSON header (padded to 8 bytes), raw little-endian data."""
    if sys.byteorder != "little":
        raise ExportError("this exporter writes the host's byte order and needs a little-endian machine")
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name, t in sd.items():
        if t.dtype not in DTYPES:
            raise ExportError("%s: dtype %s cannot be stored in safetensors by this exporter" % (name, t.dtype))
        t = t.detach().cpu().contiguous()
        size = t.numel() * t.element_size()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + size]}
        blobs.append(ctypes.string_at(t.data_ptr(), size) if size > 0 else b"")
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    return [struct.pack("<Q", len(text)), text] + blobs


def export(checkpoint, out, tasks=None, bn_eps=None, trust_pickle=False):
    if os.path.isdir(checkpoint):
        paths = rank_files(checkpoint)
        shards = [strip_module(load(p, trust_pickle), p) for p in paths]
        sd, n_experts = merge_ranks(shards, paths) if len(shards) > 1 else (shards[0], 0)
        source = "%s (%d ranks)" % (os.path.basename(os.path.normpath(checkpoint)), len(paths))
    elif os.path.isfile(checkpoint):
        sd = strip_module(load(checkpoint, trust_pickle), checkpoint)
        n_experts = 0
        source = os.path.basename(checkpoint)
    else:
        raise ExportError("%s: no such file or folder" % checkpoint)
    order = [t.strip() for t in tasks.split(",")] if tasks else task_order(sd)
    metadata = {"format": "pt", "m3vit.source": source, "m3vit.tasks": ",".join(order)}
    if bn_eps is not None:
        metadata["bn_eps"] = repr(float(bn_eps))
    parts = encode(sd, metadata)
    tmp = "%s.tmp-%d" % (out, os.getpid())
    try:
        with open(tmp, "wb") as f:
            for p in parts:
                f.write(p)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    size = sum(len(p) for p in parts)
    merged = " (%d expert tensors merged from %d ranks)" % (n_experts, len(paths)) if n_experts else ""
    print("wrote %s: %d tensors, %.1f MiB, tasks %s%s" % (out, len(sd), size / 2**20, ", ".join(order) or "none", merged))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("checkpoint", help="a .pth file, or a folder of {rank}.pth files")
    ap.add_argument("--out", required=True, help="the .safetensors file to write")
    ap.add_argument("--tasks", help="task order of the training run (gate index order), comma-separated; default: the order of decoders.* in the checkpoint")
    ap.add_argument("--bn-eps", type=float, help="BatchNorm epsilon of the task heads, if not 1e-5")
    ap.add_argument("--trust-pickle", action="store_true", help="load with weights_only=False (runs pickled code: only for files you trust)")
    args = ap.parse_args(argv)
    try:
        export(args.checkpoint, args.out, args.tasks, args.bn_eps, args.trust_pickle)
    except ExportError as e:
        sys.stderr.write("export_m3vit.py: %s\n" % e)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
