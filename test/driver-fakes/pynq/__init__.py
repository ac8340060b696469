"""A fake `pynq` for the driver tests (test/driver.test.ts): just the API the m3vit driver
uses (Overlay, allocate, a DefaultIP with read/write and a register map), with a fake
accelerator behind the registers so that a run can be checked end to end without a board.

FAKE_PYNQ (JSON in the environment) configures it:
  registers: {name: [offset, bits]}   the register map the "hwh" describes
  vlnv: the IP's type; cell: its name in the overlay
  the fake accelerator: output[j] = input[j % in_elements] + 7 * task + 1 (int16), for
  out_elements[task] values; with options bit 0, every dump slot of "dumps" (the
  m3vit_meta.json entries) that the task writes gets value(i) = (3 * i + task) % 1000 - 500
  for golden element i, stored as the kernel stores it (16/32-bit lanes, 'hwc' channels-last)
  replay: {"golden": <golden folder>, "meta": <m3vit_meta.json>, "corrupt": [task, name, index]}
          instead: a perfect accelerator that writes the golden output of the task (and with
          options bit 0 every dump slot from the golden checkpoints, as the kernel lays them
          out); "corrupt" adds 1 to one element of one tensor, as a faulty kernel would
Every MMIO write and allocation is appended to the file FAKE_PYNQ_LOG as JSON lines.
"""
import json
import os

import numpy as np

CONF = json.loads(os.environ.get("FAKE_PYNQ", "{}"))
_buffers = {}
_next_address = [0x40000000]


def _log(*words):
    path = os.environ.get("FAKE_PYNQ_LOG")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(list(words)) + "\n")


class PynqBuffer(np.ndarray):
    def flush(self):
        _log("flush", int(self.device_address))

    def invalidate(self):
        _log("invalidate", int(self.device_address))

    def freebuffer(self):
        _log("free", int(self.device_address))


def allocate(shape, dtype="u4", **kwargs):
    a = np.zeros(shape, dtype=dtype).view(PynqBuffer)
    a.device_address = _next_address[0]
    _buffers[a.device_address] = a
    # Page-aligned, like the real CMA allocations, and beyond 4 GiB for half of them so
    # that the high halves of the pointer registers matter.
    _next_address[0] += ((a.nbytes + 4095) // 4096) * 4096 + 0x1_0000_0000
    _log("allocate", list(a.shape), str(a.dtype), int(a.device_address))
    return a


class _RegisterMap:
    def __init__(self, registers):
        # PYNQ's RegisterMap subclasses carry (class, offset, bits) per register.
        self._register_classes = {k: (object, v[0], v[1]) for k, v in registers.items()}


class DefaultIP:
    def __init__(self, registers):
        self.registers = {k: tuple(v) for k, v in registers.items()}
        self.register_map = _RegisterMap(self.registers)
        self.mem = {}

    def write(self, offset, value):
        _log("write", offset, value)
        if not 0 <= value < 2**32:
            raise ValueError("MMIO writes are 32-bit")
        self.mem[offset] = value
        if offset == self.registers["CTRL"][0] and value & 1:
            self._run()

    def read(self, offset):
        v = self.mem.get(offset, 0)
        if offset == self.registers["CTRL"][0]:
            self.mem[offset] = v & ~0x2  # ap_done is clear-on-read
        return v

    def _reg64(self, name):
        lo = self.mem.get(self.registers[name + "_1"][0], 0)
        hi = self.mem.get(self.registers[name + "_2"][0], 0)
        return lo | (hi << 32)

    def _run(self):
        task = self.mem[self.registers["task"][0]]
        options = self.mem.get(self.registers["options"][0], 0)
        inp = _buffers[self._reg64("image")]
        out = _buffers[self._reg64("result")]
        w = _buffers[self._reg64("weights")]
        scratch = _buffers[self._reg64("scratch")]
        _log("run", task, int(w.view(np.uint8)[:4].astype(np.int64).sum()), options)
        if "replay" in CONF:
            self._replay(task, options, out, scratch)
            self.mem[self.registers["CTRL"][0]] = 0x2 | 0x4
            return
        n_out = CONF["out_elements"][task]
        n_in = CONF["in_elements"]
        src = inp[np.arange(n_out) % n_in].astype(np.int64)
        out[:n_out] = (src + 7 * task + 1).astype(np.int16)
        if options & 1:
            for d in CONF.get("dumps", []):
                if d.get("task") not in (None, CONF["task_names"][task]):
                    continue
                n = int(np.prod(d["shape"]))
                vals = (3 * np.arange(n) + task) % 1000 - 500
                if d["layout"] == "hwc":
                    c, h, wd = d["shape"]
                    vals = vals.reshape(c, h, wd).transpose(1, 2, 0).ravel()
                if d["lanes"] == 32:
                    view = scratch.view(np.int32)
                    view[d["offsetWords"] * 4:d["offsetWords"] * 4 + n] = vals
                else:
                    scratch[d["offsetWords"] * 8:d["offsetWords"] * 8 + n] = vals
        self.mem[self.registers["CTRL"][0]] = 0x2 | 0x4  # done, idle


    def _replay(self, task, options, out, scratch):
        rep = CONF["replay"]
        with open(os.path.join(rep["golden"], "manifest.json")) as f:
            man = json.load(f)
        with open(rep["meta"]) as f:
            meta = json.load(f)
        t = [x for x in man["tasks"] if x["taskId"] == task][0]
        tensors = {x["name"]: x for x in t["tensors"]}

        def load(name):
            x = tensors[name]
            vals = np.fromfile(os.path.join(rep["golden"], x["file"]), dtype="<i2" if x["dtype"] == "int16" else "<i4").astype(np.int64)
            bad = rep.get("corrupt")
            if bad and bad[0] == t["name"] and bad[1] == name:
                vals[bad[2]] += 1
            return vals

        o = load(t["output"])
        out[:o.size] = o.astype(np.int16)
        if options & 1:
            for d in meta["dumps"]:
                if d.get("task") not in (None, t["name"]):
                    continue
                vals = load(d["name"])
                if d["layout"] == "hwc":
                    c, h, w = d["shape"]
                    vals = vals.reshape(c, h, w).transpose(1, 2, 0).ravel()
                if d["lanes"] == 32:
                    scratch.view(np.int32)[d["offsetWords"] * 4:d["offsetWords"] * 4 + vals.size] = vals
                else:
                    scratch[d["offsetWords"] * 8:d["offsetWords"] * 8 + vals.size] = vals


class Overlay:
    def __init__(self, bitfile):
        _log("overlay", os.path.basename(bitfile))
        if not os.path.exists(bitfile):
            raise IOError("no bitstream " + bitfile)
        self.ip_dict = {CONF["cell"]: {"type": CONF["vlnv"], "registers": {}}}
        setattr(self, CONF["cell"], DefaultIP(CONF["registers"]))
