"""Fixed-point encoding and decoding for the m3vit accelerator (no PYNQ, no board needed).

The accelerator sees integers only: a value q of a site with `frac` fraction bits stands
for q * 2**-frac. These functions are the Python twins of quantize/dequantize in
generator/numerics/fixed.ts, and must agree with them bit for bit (test/driver.test.ts
checks that on vectors the TypeScript produces):

    quantize(x)   = sat(floor(x * 2**frac + 0.5), bits)    (round half up, then saturate)
    dequantize(q) = q * 2**-frac

Both are exact in IEEE double arithmetic (scaling by a power of two is exact, and Python
floats are doubles like JavaScript numbers). Words on the m_axi ports are 128 bits: 8
lanes of int16, lane i in bits [16i+15:16i], so on the little-endian ARM cores a buffer of
words is simply an int16 array in C order, zero-padded to a multiple of 8.

Works with lists (standard library only) and, faster, with numpy arrays.
"""
import math
import struct

LANES_PER_WORD = 8
LANE_BITS = 16
WORD_BYTES = 16


def word_count(elements):
    """128-bit words holding `elements` int16 values."""
    return -(-int(elements) // LANES_PER_WORD)


def limits(bits):
    """Smallest and largest value of a signed `bits`-bit word."""
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def _scaled(x, frac):
    """floor(x * 2**frac + 0.5) before saturation (infinities stay infinite)."""
    x = float(x)
    if math.isnan(x):
        raise ValueError("cannot quantize NaN")
    if math.isinf(x):
        return x
    return math.floor(x * 2.0 ** frac + 0.5)


def quantize(x, frac, bits):
    """One real value to a `bits`-bit integer with `frac` fraction bits (saturating)."""
    lo, hi = limits(bits)
    q = _scaled(x, frac)
    return hi if q > hi else lo if q < lo else int(q)


def dequantize(q, frac):
    """One integer with `frac` fraction bits to its real value."""
    return q * 2.0 ** -frac


def _is_numpy(a):
    return type(a).__module__.split(".")[0] == "numpy"


def quantize_array(values, frac, bits):
    """Real values (numpy array or any iterable, any shape: flattened in C order) to integers.

    Returns an int64 numpy array for numpy input, else a list of ints. Also reports how
    many values saturated (the reference counts them too), as (values, saturated).
    """
    lo, hi = limits(bits)
    if _is_numpy(values):
        import numpy as np

        x = np.asarray(values, dtype=np.float64).ravel()
        if np.isnan(x).any():
            raise ValueError("cannot quantize NaN")
        q = np.floor(x * 2.0 ** frac + 0.5)
        saturated = int(np.count_nonzero((q > hi) | (q < lo)))
        return np.clip(q, lo, hi).astype(np.int64), saturated
    out = []
    saturated = 0
    for v in _flatten(values):
        q = _scaled(v, frac)
        if q > hi or q < lo:
            saturated += 1
            q = hi if q > hi else lo
        out.append(int(q))
    return out, saturated


def dequantize_array(values, frac):
    """Integers to real values (numpy float64 array for numpy input, else a list)."""
    if _is_numpy(values):
        import numpy as np

        return np.asarray(values, dtype=np.float64) * 2.0 ** -frac
    return [dequantize(q, frac) for q in _flatten(values)]


def _flatten(values):
    for v in values:
        if isinstance(v, (list, tuple)):
            for w in _flatten(v):
                yield w
        else:
            yield v


def pack_words(values):
    """int16 values to the bytes of 128-bit words (little-endian lanes, zero-padded)."""
    values = list(values)
    lo, hi = limits(LANE_BITS)
    for i, v in enumerate(values):
        if not lo <= v <= hi:
            raise ValueError("value %d at %d does not fit an int16 lane" % (v, i))
    padded = values + [0] * (word_count(len(values)) * LANES_PER_WORD - len(values))
    return struct.pack("<%dh" % len(padded), *padded)


def unpack_words(data, count):
    """The first `count` int16 lanes of the bytes of 128-bit words."""
    if len(data) < 2 * count:
        raise ValueError("%d bytes hold fewer than %d int16 values" % (len(data), count))
    return list(struct.unpack_from("<%dh" % count, data, 0))


def compare_words(expected, actual):
    """Every output word must be equal. Returns a summary dict: count of values compared,
    mismatches, the first mismatching index with both values, and the largest |difference|."""
    expected = [int(v) for v in _flatten(expected)] if not _is_numpy(expected) else [int(v) for v in expected.ravel()]
    actual = [int(v) for v in _flatten(actual)] if not _is_numpy(actual) else [int(v) for v in actual.ravel()]
    if len(expected) != len(actual):
        raise ValueError("expected %d values, got %d" % (len(expected), len(actual)))
    mismatches = 0
    first = None
    max_diff = 0
    for i, (e, a) in enumerate(zip(expected, actual)):
        if e != a:
            mismatches += 1
            if first is None:
                first = (i, e, a)
            max_diff = max(max_diff, abs(e - a))
    return {"count": len(expected), "mismatches": mismatches, "first": first, "max_abs_diff": max_diff}


def index_in_shape(flat, shape):
    """C-order multi-index of a flat index (for messages: [c, h, w])."""
    idx = []
    for dim in reversed(shape):
        idx.append(flat % dim)
        flat //= dim
    return list(reversed(idx))
