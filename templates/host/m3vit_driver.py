"""PYNQ driver for the m3vit accelerator (what ZCU104 users run on the board).

    from m3vit_driver import M3ViT
    acc = M3ViT()                       # loads the overlay and the weight image once
    seg = acc.run(image, "semseg")      # image: float array [C, H, W], normalised as in training
    dep = acc.run(image, "depth")       # any task, any order: no reload between tasks

Everything specific to the generated design comes from files next to this one:
m3vit_meta.json (written by m3vit-gen: IP, arguments, tasks and shapes), the quantization
plan (fraction bits of the input and of each task output) and the weight image. Register
offsets come from the overlay's register map, which PYNQ reads from the .hwh.
Run as root (PYNQ needs it to load a bitstream and map memory).
"""
import json
import os
import time

import m3vit_codec as codec
import m3vit_registers as registers

HERE = os.path.dirname(os.path.abspath(__file__))


def load_meta(path=None):
    with open(path or os.path.join(HERE, "m3vit_meta.json")) as f:
        return json.load(f)


def check_weight_image(path, manifest_path):
    """The weight image must be the one generated with this accelerator: the kernels have
    its tensors' offsets and binary points compiled in, so another image of another model,
    parallelism or quantization would run without complaint and compute garbage. Its size
    and sha256 are checked against data/weights.json from the same generation."""
    import hashlib

    with open(manifest_path) as f:
        want = json.load(f)
    size = os.path.getsize(path)
    if size != want["bytes"]:
        raise ValueError(
            "%s: %d bytes, but this accelerator's weight image (%s) has %d bytes; use the weights.bin generated with it"
            % (path, size, manifest_path, want["bytes"])
        )
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    if h.hexdigest() != want["sha256"]:
        raise ValueError(
            "%s: sha256 %s differs from %s's %s: not the weight image generated with this accelerator (or damaged)"
            % (path, h.hexdigest(), manifest_path, want["sha256"])
        )
    return size


def load_formats(meta, quant_plan_path=None):
    """Fraction bits of the input and of each task's output, and the activation word width,
    from the quantization plan m3vit-gen wrote (the same plan the kernels were built with)."""
    path = quant_plan_path or os.path.join(HERE, meta["files"]["quantPlan"])
    with open(path) as f:
        plan = json.load(f)
    # model/quant-plan.json lists the sites as "activations": [{"site", "frac", ...}];
    # the in-memory QuantPlan form {"act": {site: frac}} is accepted too.
    if "activations" in plan:
        act = {a["site"]: a["frac"] for a in plan["activations"]}
    else:
        act = plan["act"]
    bits = plan["bits"]["activation"]
    out = {}
    for t in meta["tasks"]:
        site = t["outputSite"]
        if site not in act:
            raise KeyError("quantization plan %s has no site %s (task %s)" % (path, site, t["name"]))
        out[t["name"]] = act[site]
    return {"bits": bits, "input": act[meta["input"]["site"]], "output": out}


class M3ViT:
    """One loaded accelerator: overlay, buffers and weights stay for every run."""

    def __init__(self, bitfile=None, weights=None, quant_plan=None, meta=None, overlay=None, timeout_s=60.0, weights_manifest=None):
        import numpy as np
        from pynq import Overlay, allocate

        self._np = np
        self.meta = meta if isinstance(meta, dict) else load_meta(meta)
        m = self.meta
        self.formats = load_formats(m, quant_plan)
        self.timeout_s = timeout_s
        self.tasks = {t["name"]: t for t in m["tasks"]}
        # Checked before the bitstream is loaded: a wrong image is a user error, found in a second.
        wpath = weights or os.path.join(HERE, m["files"]["weights"])
        image_bytes = check_weight_image(wpath, weights_manifest or os.path.join(HERE, m["files"]["weightManifest"]))
        self.overlay = overlay if overlay is not None else Overlay(bitfile or os.path.join(HERE, m["files"]["bit"]))
        self.ip, info = self._find_ip()
        regmap = registers.from_pynq(self.ip, info)
        pointers = [b["arg"] for b in m["bundles"]]
        scalars = [s["arg"] for s in m["scalars"]]
        self.layout = registers.resolve(regmap, pointers, scalars)

        # Buffers, allocated once. pynq.allocate gives physically contiguous, page-aligned
        # memory (the IP's bursts assume 16-byte alignment).
        lanes = m["lanes"]
        self.buffers = {
            "weights": allocate(shape=(image_bytes,), dtype=np.uint8),
            "scratch": allocate(shape=(max(1, m["scratchWords"]) * lanes,), dtype=np.int16),
            "input": allocate(shape=(m["input"]["words"] * lanes,), dtype=np.int16),
            "output": allocate(shape=(max(t["outputWords"] for t in m["tasks"]) * lanes,), dtype=np.int16),
        }
        self.buffers["weights"][:] = np.fromfile(wpath, dtype=np.uint8)
        self.buffers["weights"].flush()
        self.buffers["scratch"][:] = 0
        self.buffers["scratch"].flush()
        self.last_run_s = None

    def _find_ip(self):
        want = self.meta["ip"]["vlnv"].rsplit(":", 1)[0]  # any version
        for name, info in self.overlay.ip_dict.items():
            if str(info.get("type", "")).rsplit(":", 1)[0] == want:
                return getattr(self.overlay, name), info
        raise RuntimeError("the overlay has no %s IP (found: %s)" % (want, ", ".join(sorted(self.overlay.ip_dict))))

    def _write(self, arg, value):
        for offset, word in registers.writes(self.layout, arg, int(value)):
            self.ip.write(offset, word)

    def _task(self, task):
        if isinstance(task, int):
            for t in self.meta["tasks"]:
                if t["index"] == task:
                    return t
            raise ValueError("no task %d; tasks: %s" % (task, ", ".join(self.tasks)))
        if task not in self.tasks:
            raise ValueError("no task %r; this accelerator was built for: %s" % (task, ", ".join(self.tasks)))
        return self.tasks[task]

    def run_raw(self, qimage, task, options=0):
        """Runs one task on an already quantized image (integers, C order). Returns the
        task output as integers (numpy int16 array, C order, output shape)."""
        np = self._np
        t = self._task(task)
        q = np.asarray(qimage).ravel()
        n_in = self.meta["input"]["elements"]
        if q.size != n_in:
            raise ValueError("input has %d values, the model takes %s = %d" % (q.size, "x".join(map(str, self.meta["input"]["shape"])), n_in))
        lo, hi = codec.limits(self.formats["bits"])
        if q.size and (q.min() < lo or q.max() > hi):
            raise ValueError("quantized input outside [%d, %d]" % (lo, hi))
        inp, out = self.buffers["input"], self.buffers["output"]
        inp[:n_in] = q
        inp[n_in:] = 0
        inp.flush()
        for arg, buf in zip([b["arg"] for b in self.meta["bundles"]], [self.buffers[b["role"]] for b in self.meta["bundles"]]):
            self._write(arg, _address(buf))
        self._write("task", t["index"])
        self._write("options", options)
        ctrl = self.layout["CTRL"][0][0]
        start = time.perf_counter()
        self.ip.write(ctrl, registers.AP_START)
        # ap_done is clear-on-read: it stays set until this loop sees it.
        while not self.ip.read(ctrl) & registers.AP_DONE:
            if time.perf_counter() - start > self.timeout_s:
                raise TimeoutError("task %s did not finish within %.0f s" % (t["name"], self.timeout_s))
        self.last_run_s = time.perf_counter() - start
        out.invalidate()
        n_out = t["outputElements"]
        return np.array(out[:n_out], dtype=np.int16).reshape(t["outputShape"])

    def run(self, image, task, options=0):
        """Runs one task on a real-valued image [C, H, W]; returns the real-valued output
        (float64, the task's output shape). Any task, any order: nothing is reloaded."""
        q, saturated = codec.quantize_array(self._np.asarray(image, dtype=self._np.float64), self.formats["input"], self.formats["bits"])
        self.last_input_saturated = saturated
        t = self._task(task)
        raw = self.run_raw(q, t["name"], options)
        return codec.dequantize_array(raw, self.formats["output"][t["name"]])

    # --- debug dumps (options bit 0): what validate.py compares layer by layer ---------

    def dumps_of(self, task):
        """The debug-dump slots a run of `task` writes (backbone slots and the task's head)."""
        name = self._task(task)["name"]
        return [d for d in self.meta["dumps"] if d.get("task") in (None, name)]

    def prefill(self, task, pattern=0xA5A5):
        """Fills the result buffer and the task's dump slots with a pattern before a run, so
        stale data from an earlier run cannot pass for a result (as the csim does)."""
        np = self._np
        fill = pattern - 0x10000 if pattern & 0x8000 else pattern  # the int16 with those bits
        out = self.buffers["output"]
        out[:] = fill
        out.flush()
        scratch = self.buffers["scratch"]
        lanes = self.meta["lanes"]
        for d in self.dumps_of(task):
            n = _count(d["shape"]) * (d["lanes"] // 16)
            start = d["offsetWords"] * lanes
            scratch[start:start + n] = fill
        scratch.flush()

    def read_dump(self, d):
        """A dump slot's values in the golden's element order ([C][H][W] maps are dumped
        channels-last, layout 'hwc')."""
        np = self._np
        scratch = self.buffers["scratch"]
        scratch.invalidate()
        n = _count(d["shape"])
        if d["lanes"] == 32:
            start = d["offsetWords"] * (self.meta["wordBits"] // 32)
            vals = np.array(scratch.view(np.int32)[start:start + n], dtype=np.int64)
        else:
            start = d["offsetWords"] * self.meta["lanes"]
            vals = np.array(scratch[start:start + n], dtype=np.int64)
        if d["layout"] == "hwc":
            c, h, w = d["shape"]
            vals = vals.reshape(h, w, c).transpose(2, 0, 1).ravel()
        return vals

    def close(self):
        for b in self.buffers.values():
            b.freebuffer()


def _count(shape):
    n = 1
    for x in shape:
        n *= int(x)
    return n


def _address(buf):
    # PYNQ 2.7 renamed physical_address to device_address.
    return getattr(buf, "device_address", None) or buf.physical_address
