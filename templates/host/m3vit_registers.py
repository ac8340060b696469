"""Register offsets of the accelerator's s_axilite control port, found by name in the
register map PYNQ builds from the .hwh (no offset is written into this driver: Vitis HLS
assigns them, and releases have named 64-bit pointer registers differently).

A register map here is a dict {name: (byte offset, size in bits)}. Pure Python, so the
resolution is unit-tested without PYNQ (test/driver.test.ts).
"""

# Bits of the HLS block-level control register (ap_ctrl_hs).
AP_START = 0x1
AP_DONE = 0x2
AP_IDLE = 0x4


class RegisterError(Exception):
    pass


def _lookup(regmap, name):
    """(offset, bits) of `name`, matched case-insensitively, or None."""
    for k, v in regmap.items():
        if k.lower() == name.lower():
            return v
    return None


def resolve(regmap, pointers, scalars):
    """Where to write each argument: {arg: [(offset, shift), ...]} plus 'CTRL'.

    A pointer becomes one 32-bit write per half: the low half at shift 0, the high half at
    shift 32. Vitis HLS names a 64-bit pointer `p_1`/`p_2` (two 32-bit registers) in the
    .hwh, some releases `p` with 64 bits; with 32-bit addressing it is one register `p`.
    """
    layout = {}
    ctrl = _lookup(regmap, "CTRL")
    if ctrl is None:
        raise RegisterError("no CTRL register in the register map: is this the m3vit IP? registers: %s" % ", ".join(sorted(regmap)))
    layout["CTRL"] = [(ctrl[0], 0)]
    for p in pointers:
        whole = _lookup(regmap, p)
        low, high = _lookup(regmap, p + "_1"), _lookup(regmap, p + "_2")
        if low is not None and high is not None:
            layout[p] = [(low[0], 0), (high[0], 32)]
        elif whole is not None and whole[1] >= 64:
            layout[p] = [(whole[0], 0), (whole[0] + 4, 32)]
        elif whole is not None:
            layout[p] = [(whole[0], 0)]
        else:
            raise RegisterError("no register for pointer argument '%s' (looked for %s, %s_1/%s_2); registers: %s" % (p, p, p, p, ", ".join(sorted(regmap))))
    for s in scalars:
        reg = _lookup(regmap, s)
        if reg is None:
            raise RegisterError("no register for argument '%s'; registers: %s" % (s, ", ".join(sorted(regmap))))
        layout[s] = [(reg[0], 0)]
    return layout


def writes(layout, arg, value):
    """The 32-bit (offset, value) writes that set `arg` to `value`."""
    out = []
    parts = layout[arg]
    for offset, shift in parts:
        out.append((offset, (value >> shift) & 0xFFFFFFFF))
    if len(parts) == 1 and value >> 32:
        raise RegisterError("%s = 0x%x does not fit its 32-bit register" % (arg, value))
    return out


def from_pynq(ip, ip_info=None):
    """The register map of a PYNQ DefaultIP: from `ip.register_map` (built from the .hwh),
    else from the ip_dict entry's 'registers'."""
    regmap = {}
    rm = getattr(ip, "register_map", None)
    classes = getattr(rm, "_register_classes", None) if rm is not None else None
    if classes:
        for name, spec in classes.items():
            # (register class, address offset, size in bits)
            regmap[name] = (int(spec[1]), int(spec[2]))
    elif ip_info and "registers" in ip_info:
        for name, r in ip_info["registers"].items():
            regmap[name] = (int(r["address_offset"]), int(r["size"]))
    if not regmap:
        raise RegisterError("the overlay has no register map for the accelerator (is the .hwh next to the .bit, with the same name?)")
    return regmap
