"""Runs the golden vectors on the board and checks every output word, as `make csim` does.

    sudo python3 validate.py                 # every golden case, every task
    sudo python3 validate.py --task semseg   # one task
    sudo python3 validate.py --bit other.bit --golden path/to/golden

The overlay and the weights are loaded once; the tasks then run in the manifest's order
(switching task is a register write). Exit status: 0 when every output word of every case
equals the TypeScript reference's, 1 on any mismatch, 2 when a file is missing.
"""
import argparse
import json
import os
import sys

import m3vit_codec as codec

HERE = os.path.dirname(os.path.abspath(__file__))


def load_vector(path):
    """A golden vector: .npy (any integer dtype) or raw little-endian int16 (.bin)."""
    import numpy as np

    if path.endswith(".npy"):
        return np.load(path, allow_pickle=False)
    return np.fromfile(path, dtype="<i2")


def golden_cases(manifest_path):
    """The cases of the golden manifest: dicts with task, input and output file paths."""
    with open(manifest_path) as f:
        manifest = json.load(f)
    base = os.path.dirname(os.path.abspath(manifest_path))
    cases = []
    for i, c in enumerate(manifest["cases"]):
        cases.append({
            "name": c.get("name", "%s #%d" % (c["task"], i)),
            "task": c["task"],
            "input": os.path.join(base, c["input"]),
            "output": os.path.join(base, c["output"]),
        })
    return cases


def describe(summary, shape):
    """One line per case, in the csim's words."""
    if summary["mismatches"] == 0:
        return "OK: %d/%d output words equal" % (summary["count"], summary["count"])
    i, e, a = summary["first"]
    return "MISMATCH: %d of %d output words differ; first at index %d %s: expected %d, got %d; max |diff| %d" % (
        summary["mismatches"], summary["count"], i, codec.index_in_shape(i, shape), e, a, summary["max_abs_diff"])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bit", help="bitstream (default: the one next to this script); its .hwh must sit next to it")
    ap.add_argument("--golden", default=os.path.join(HERE, "golden"), help="golden vector folder (default: ./golden)")
    ap.add_argument("--task", action="append", help="run only this task (repeatable)")
    args = ap.parse_args(argv)

    manifest = os.path.join(args.golden, "manifest.json")
    if not os.path.exists(manifest):
        print("validate: %s is missing (run `m3vit-gen golden` and `make package`)" % manifest, file=sys.stderr)
        return 2
    cases = [c for c in golden_cases(manifest) if not args.task or c["task"] in args.task]
    for c in cases:
        for key in ("input", "output"):
            if not os.path.exists(c[key]):
                print("validate: %s: %s is missing" % (c["name"], c[key]), file=sys.stderr)
                return 2
    if not cases:
        print("validate: no golden case for the selected tasks", file=sys.stderr)
        return 2

    from m3vit_driver import M3ViT

    acc = M3ViT(bitfile=args.bit)
    failed = 0
    for c in cases:
        expected = load_vector(c["output"])
        got = acc.run_raw(load_vector(c["input"]), c["task"])
        summary = codec.compare_words(expected, got)
        print("%s (%s): %s [%.2f ms]" % (c["name"], c["task"], describe(summary, list(got.shape)), acc.last_run_s * 1e3))
        failed += summary["mismatches"] != 0
    print("validate: %d of %d cases bit-exact" % (len(cases) - failed, len(cases)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
