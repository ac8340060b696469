/**
 * DSP48E2 slices of one integer product. UG579 (UltraScale DSP48E2): the multiplier is
 * 27 x 18 bits, two's complement, so one slice takes a signed product of at most 27 x 18 bits
 * (an unsigned w-bit operand needs w + 1 signed bits). A wider product is tiled: each operand
 * splits into a signed top piece and unsigned lower pieces, 26 bits per lower piece on the
 * 27-bit A/D port and 17 on the 18-bit B port (the 17-bit shift of the PCIN cascade adds the
 * partial products); every pair of pieces is one slice. So an operand of w bits on the A port
 * takes 1 + ceil((w - 27) / 26) pieces, on the B port 1 + ceil((w - 18) / 17), and the product
 * takes the better of the two port assignments: 16 x 16 -> 1, 32 x 32 -> 4, 48 x 48 -> 6,
 * 64 x 64 -> 12. Small products that Vitis may map to LUTs are still counted as one slice.
 */

function pieces(bits: number, port: number): number {
  return bits <= port ? 1 : 1 + Math.ceil((bits - port) / (port - 1));
}

/** `a` and `b` in signed bits. */
export function dspPerProduct(a: number, b: number): number {
  return Math.min(pieces(a, 27) * pieces(b, 18), pieces(b, 27) * pieces(a, 18));
}
