"""Runs the golden vectors on the board and checks every word, as `make csim` does.

    sudo python3 validate.py                 # the csim's run order (A, B, A, ...), with layer dumps
    sudo python3 validate.py --task semseg   # chosen tasks, in the given order
    sudo python3 validate.py --no-dumps      # outputs only (and the run time without dumps)
    sudo python3 validate.py --bit other.bit --golden path/to/golden

The overlay and the weights are loaded once; the tasks then run one after the other
without any reload (a task switch is a register write). Each run prints the same lines as
the C simulation: output mismatches, and with the debug dumps (options bit 0) the first
checkpointed layer that differs. Exit status: 0 when every word equals the TypeScript
reference's, 1 on any mismatch, 2 when a file is missing or damaged.
"""
import argparse
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


class GoldenError(Exception):
    pass


def load_golden(manifest_path):
    """The golden manifest (m3vit-gen's golden/manifest.json, docs/golden-format.md): the
    quantized input, and per task every checkpoint tensor (name, file relative to the golden
    folder, dtype, shape, sha256); one raw little-endian file per tensor."""
    with open(manifest_path) as f:
        m = json.load(f)
    folder = os.path.dirname(os.path.abspath(manifest_path))
    tasks = {}
    for t in m["tasks"]:
        tasks[t["name"]] = {"output": t["output"], "tensors": {x["name"]: x for x in t["tensors"]}}
    for spec in [m["input"]] + [x for t in m["tasks"] for x in t["tensors"]]:
        spec["path"] = os.path.join(folder, spec["file"])
    return {"input": m["input"], "tasks": tasks}


def read_tensor(spec):
    """One golden tensor, checked against the manifest (size and sha256) before use."""
    import numpy as np

    path = spec["path"]
    if not os.path.exists(path):
        raise GoldenError("%s is missing (tensor %s)" % (path, spec["name"]))
    with open(path, "rb") as f:
        raw = f.read()
    if "sha256" in spec and hashlib.sha256(raw).hexdigest() != spec["sha256"]:
        raise GoldenError("%s is damaged: its sha256 differs from the manifest's" % path)
    n = 1
    for d in spec["shape"]:
        n *= d
    vals = np.frombuffer(raw, dtype={"int16": "<i2", "int32": "<i4"}[spec["dtype"]])
    if vals.size != n:
        raise GoldenError("%s holds %d values, the manifest says %d" % (path, vals.size, n))
    return vals.astype(np.int64)


def tensor_of(golden, task, name):
    t = golden["tasks"][task]["tensors"]
    if name not in t:
        raise GoldenError("the golden vectors of task %s have no checkpoint %s" % (task, name))
    return t[name]


def mismatches(expected, got):
    """(count, first index, expected, got) over C-order values, as the csim reports them."""
    import numpy as np

    expected = np.asarray(expected, dtype=np.int64).ravel()
    got = np.asarray(got, dtype=np.int64).ravel()
    bad = np.flatnonzero(expected != got)
    if bad.size == 0:
        return 0, -1, 0, 0
    i = int(bad[0])
    return int(bad.size), i, int(expected[i]), int(got[i])


def main(argv=None):
    ap = argparse.ArgumentParser(description="Runs the golden vectors on the board and checks every word.")
    ap.add_argument("--bit", help="bitstream (default: the one next to this script); its .hwh must sit next to it")
    ap.add_argument("--golden", default=os.path.join(HERE, "golden"), help="golden vector folder (default: ./golden)")
    ap.add_argument("--task", action="append", help="run this task (repeatable, in this order) instead of the csim's order")
    ap.add_argument("--no-dumps", action="store_true", help="compare the outputs only, without the per-layer debug dumps")
    args = ap.parse_args(argv)

    from m3vit_driver import load_meta

    meta = load_meta()
    manifest = os.path.join(args.golden, "manifest.json")
    try:
        if not os.path.exists(manifest):
            raise GoldenError("%s is missing (generate the project, then `make package`)" % manifest)
        golden = load_golden(manifest)
        names = [t["name"] for t in meta["tasks"]]
        order = [names[i] for i in meta["runOrder"]] if not args.task else args.task
        for n in order:
            if n not in names:
                raise GoldenError("no task %s; this accelerator was built for: %s" % (n, ", ".join(names)))
            if n not in golden["tasks"]:
                raise GoldenError("the golden vectors have no task %s" % n)
    except (GoldenError, OSError, KeyError, ValueError) as e:
        print("validate: %s" % e, file=sys.stderr)
        return 2

    # Every golden file is read and checked before the board is touched.
    try:
        image = read_tensor(golden["input"])
        data = {}
        for name in dict.fromkeys(order):
            dumps = [] if args.no_dumps else [d for d in meta["dumps"] if d.get("task") in (None, name)]
            data[name] = (
                read_tensor(tensor_of(golden, name, golden["tasks"][name]["output"])),
                dumps,
                [read_tensor(tensor_of(golden, name, d["name"])) for d in dumps],
            )
    except (GoldenError, OSError) as e:
        print("validate: %s" % e, file=sys.stderr)
        return 2

    from m3vit_driver import M3ViT

    try:
        acc = M3ViT(bitfile=args.bit, meta=meta)
    except (ValueError, OSError) as e:
        # A wrong or damaged weight image, a missing bitstream: the user's files, not a bug.
        print("validate: %s" % e, file=sys.stderr)
        return 2
    options = 0 if args.no_dumps else meta["options"]["debugDump"]
    passed = True
    for r, name in enumerate(order):
        task = acc._task(name)
        expected, dumps, layer_golden = data[name]
        acc.prefill(name)
        out = acc.run_raw(image, name, options)
        om = mismatches(expected, out)
        layer_bad = 0
        first = None
        for d, gd in zip(dumps, layer_golden):
            m = mismatches(gd, acc.read_dump(d))
            layer_bad += m[0]
            if m[0] and first is None:
                first = (d["name"], m)
        ok = om[0] == 0 and layer_bad == 0
        passed = passed and ok
        print("run %d: task %s: %d output words, %d mismatches; %d checkpointed layers, %d mismatching elements: %s"
              % (r, name, task["outputElements"], om[0], len(dumps), layer_bad, "PASS" if ok else "FAIL"))
        if om[0]:
            print("  output: first mismatch at index %d: expected %d, got %d" % (om[1], om[2], om[3]))
        if first is not None:
            n, m = first
            print("  first differing layer: %s, index %d: expected %d, got %d (%d elements differ)" % (n, m[1], m[2], m[3], m[0]))
        print("  %.3f ms on the board%s" % (acc.last_run_s * 1e3, "" if args.no_dumps else " (with debug dumps)"))
    print("validate: %s (%d runs on the board, no reload between tasks)" % ("PASS" if passed else "FAIL", len(order)))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
