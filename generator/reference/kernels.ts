/**
 * The multiply-accumulate loops of the reference model, shared by the float and the int
 * mode. They return raw sums: in int mode every operand is an integer of at most 16 bits
 * and every sum stays below 2^53 (checked by the accumulator check), so double arithmetic
 * is exact and the summation order cannot change a result; in float mode they are plain
 * float64 dot products. What happens to a sum afterwards (bias, rounding, saturation,
 * ReLU) belongs to the mode.
 *
 * Performance: these loops are ~all of the ~7 GMACs of one m3vit-tiny inference. They run
 * on Float64Arrays (no int->double conversion in the inner loop), weights in the order the
 * inner loop reads them, no allocation per element.
 */

/**
 * acc[r*outDim + o] = sum_i x[xOff + r*inDim + i] * w[o*inDim + i] for r < rows, o < outDim.
 * w is [outDim][inDim] (PyTorch's Linear layout), so each output is a contiguous dot product.
 * Blocked 2 rows x 2 outputs: each loaded x and w value feeds two products (twice the
 * speed of one dot product at a time in V8).
 */
export function matmulRows(
  x: Float64Array, xOff: number, rows: number, inDim: number,
  w: Float64Array, outDim: number, acc: Float64Array,
): void {
  let r = 0;
  for (; r + 1 < rows; r += 2) {
    const x0 = xOff + r * inDim;
    const x1 = x0 + inDim;
    const a0 = r * outDim;
    const a1 = a0 + outDim;
    let o = 0;
    for (; o + 1 < outDim; o += 2) {
      const w0 = o * inDim;
      const w1 = w0 + inDim;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0;
      for (let i = 0; i < inDim; i++) {
        const xa = x[x0 + i], xb = x[x1 + i], wa = w[w0 + i], wb = w[w1 + i];
        s00 += xa * wa;
        s01 += xa * wb;
        s10 += xb * wa;
        s11 += xb * wb;
      }
      acc[a0 + o] = s00;
      acc[a0 + o + 1] = s01;
      acc[a1 + o] = s10;
      acc[a1 + o + 1] = s11;
    }
    if (o < outDim) {
      acc[a0 + o] = dot(x, x0, w, o * inDim, inDim);
      acc[a1 + o] = dot(x, x1, w, o * inDim, inDim);
    }
  }
  if (r < rows) {
    const xr = xOff + r * inDim;
    for (let o = 0; o < outDim; o++) acc[r * outDim + o] = dot(x, xr, w, o * inDim, inDim);
  }
}

/** Dot product of two rows of length n. */
export function dot(a: Float64Array, aOff: number, b: Float64Array, bOff: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[aOff + i] * b[bOff + i];
  return s;
}

/** [rows][cols] -> [cols][rows]. */
export function transpose(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) y[c * rows + r] = x[r * cols + c];
  return y;
}

/** Copies [C][H][W] into [C][H+2][W+2] with a zero border (the conv's padding of 1). */
export function padPlanes(x: Float64Array, C: number, H: number, W: number, out?: Float64Array): Float64Array {
  const PW = W + 2;
  const plane = (H + 2) * PW;
  const y = out ?? new Float64Array(C * plane);
  if (out) y.fill(0);
  for (let c = 0; c < C; c++) {
    for (let r = 0; r < H; r++) {
      const src = (c * H + r) * W;
      const dst = c * plane + (r + 1) * PW + 1;
      for (let q = 0; q < W; q++) y[dst + q] = x[src + q];
    }
  }
  return y;
}

/** Output channels a conv3x3 pass computes together (they share every input load). */
export const CONV_CHANNELS_PER_PASS = 4;

/**
 * Raw sums of a 3x3 convolution (stride 1, padding 1) for output channels co .. co+n-1
 * (n <= 4): acc[i][r*W + q] = sum_{ci,ky,kx} w[((co+i)*Cin + ci)*9 + ky*3 + kx] * x[ci][r+ky-1][q+kx-1],
 * with `xp` padded by padPlanes. Loop order (why it is fast in V8: ~1.5 GMAC/s): one output
 * row at a time so the 4 accumulator rows stay in L1, each input row read once per
 * (ci, ky) with a sliding 3-tap window shared by the 4 channels.
 */
export function conv3x3Channels(
  xp: Float64Array, Cin: number, H: number, W: number,
  w: Float64Array, co: number, n: number, acc: Float64Array[],
): void {
  const PW = W + 2;
  const plane = (H + 2) * PW;
  const S = Cin * 9;
  const a0 = acc[0], a1 = acc[n > 1 ? 1 : 0], a2 = acc[n > 2 ? 2 : 0], a3 = acc[n > 3 ? 3 : 0];
  for (let r = 0; r < H; r++) {
    const o = r * W;
    for (let i = 0; i < n; i++) acc[i].fill(0, o, o + W);
    for (let ci = 0; ci < Cin; ci++) {
      const pb = ci * plane;
      for (let ky = 0; ky < 3; ky++) {
        const b = ((co * Cin + ci) * 3 + ky) * 3;
        // Channels past n get zero weights and write into a0 (adding 0: no effect).
        const u0 = w[b], u1 = w[b + 1], u2 = w[b + 2];
        const v0 = n > 1 ? w[b + S] : 0, v1 = n > 1 ? w[b + S + 1] : 0, v2 = n > 1 ? w[b + S + 2] : 0;
        const s0 = n > 2 ? w[b + 2 * S] : 0, s1 = n > 2 ? w[b + 2 * S + 1] : 0, s2 = n > 2 ? w[b + 2 * S + 2] : 0;
        const t0 = n > 3 ? w[b + 3 * S] : 0, t1 = n > 3 ? w[b + 3 * S + 1] : 0, t2 = n > 3 ? w[b + 3 * S + 2] : 0;
        const ri = pb + (r + ky) * PW;
        let xa = xp[ri];
        let xb = xp[ri + 1];
        for (let q = 0; q < W; q++) {
          const xc = xp[ri + q + 2];
          const p = o + q;
          a0[p] += u0 * xa + u1 * xb + u2 * xc;
          a1[p] += v0 * xa + v1 * xb + v2 * xc;
          a2[p] += s0 * xa + s1 * xb + s2 * xc;
          a3[p] += t0 * xa + t1 * xb + t2 * xc;
          xa = xb;
          xb = xc;
        }
      }
    }
  }
}

/** Raw sums of a 1x1 convolution for output channel co: acc[p] = sum_ci w[co*Cin + ci] * x[ci][p]. */
export function conv1x1Channel(x: Float64Array, Cin: number, HW: number, w: Float64Array, co: number, acc: Float64Array): void {
  acc.fill(0, 0, HW);
  for (let ci = 0; ci < Cin; ci++) {
    const wv = w[co * Cin + ci];
    const b = ci * HW;
    for (let p = 0; p < HW; p++) acc[p] += wv * x[b + p];
  }
}

/**
 * 2x upsampling of [C][H][W] into [C][2H][2W] (bilinear, align_corners=false): output
 * (2i+di, 2j+dj) = tap(x[i][j], x[i'][j], x[i][j'], x[i'][j']) where i' is i-1 (di=0) or
 * i+1 (di=1), clamped to the border, likewise j'; tap weighs them 9, 3, 3, 1 (/16).
 */
export function upsample2x(
  x: Float64Array, C: number, H: number, W: number,
  tap: (x00: number, xRow: number, xCol: number, xDiag: number) => number,
  neighbour: (i: number, odd: boolean, n: number) => number,
): Float64Array {
  const H2 = 2 * H;
  const W2 = 2 * W;
  const y = new Float64Array(C * H2 * W2);
  for (let c = 0; c < C; c++) {
    const b = c * H * W;
    const ob = c * H2 * W2;
    for (let oy = 0; oy < H2; oy++) {
      const i = oy >> 1;
      const ii = neighbour(i, (oy & 1) === 1, H);
      for (let ox = 0; ox < W2; ox++) {
        const j = ox >> 1;
        const jj = neighbour(j, (ox & 1) === 1, W);
        y[ob + oy * W2 + ox] = tap(x[b + i * W + j], x[b + ii * W + j], x[b + i * W + jj], x[b + ii * W + jj]);
      }
    }
  }
  return y;
}

/** Gathers patch vectors: row p = (gr, gc) holds x[ci][gr*P+ky][gc*P+kx] in (ci, ky, kx) order (the conv weight's flattening). */
export function gatherPatches(x: ArrayLike<number>, C: number, H: number, W: number, P: number): Float64Array {
  const gh = H / P;
  const gw = W / P;
  const k = C * P * P;
  const out = new Float64Array(gh * gw * k);
  for (let gr = 0; gr < gh; gr++) {
    for (let gc = 0; gc < gw; gc++) {
      let o = (gr * gw + gc) * k;
      for (let ci = 0; ci < C; ci++) {
        for (let ky = 0; ky < P; ky++) {
          const src = (ci * H + gr * P + ky) * W + gc * P;
          for (let kx = 0; kx < P; kx++) out[o++] = x[src + kx];
        }
      }
    }
  }
  return out;
}

/** Tokens 1..N-1 ([patches][D], class token dropped) -> feature map [D][gh][gw] (token p = r*gw + c). */
export function tokensToPlanes(x: Float64Array, D: number, gh: number, gw: number, firstToken: number): Float64Array {
  const y = new Float64Array(D * gh * gw);
  const n = gh * gw;
  for (let p = 0; p < n; p++) {
    const src = (p + firstToken) * D;
    for (let d = 0; d < D; d++) y[d * n + p] = x[src + d];
  }
  return y;
}
