/**
 * Every formula of generator/estimate/formulas.ts against cases worked out by hand (the
 * arithmetic is in the comments), and the routing model's Markov chain against a brute
 * force enumeration of a real LRU cache and a seeded Monte Carlo simulation.
 */
import {
  adderTreeLogic,
  bram18Blocks,
  computeBoundCycles,
  cyclesToMs,
  dotPipelineDepth,
  dspsPerMultiplier,
  energyMj,
  expectedExpertStreaming,
  expectedExpertsUsed,
  expectedLruMisses,
  expectedTokenGroups,
  gateRoutingLogic,
  lutramLuts,
  memoryBlocks,
  memoryBoundCycles,
  physicalMemories,
  pipelinedLoopCycles,
  portBytesPerCycle,
  sequentialLoopCycles,
  divLatency,
  defaultStorage,
  uramBlocks,
} from '../generator/estimate/formulas';
import { figure } from './helpers/figures';

describe('BRAM_18K geometry (UG573: 1x16K, 2x8K, 4x4K, 9x2K, 18x1K, 36x512)', () => {
  it.each([
    // [width, depth, blocks, why]
    [16, 1024, 1, '18x1K holds 1024 words of 16 bits'],
    [16, 1025, 2, 'one word more needs a second block (9x2K: 2 side by side; 18x1K: 2 stacked)'],
    [36, 512, 1, '36x512 exactly'],
    [1, 16384, 1, '1x16K exactly'],
    [9, 2048, 1, '9x2K exactly'],
    [256, 96, 8, '36x512: ceil(256/36) = 8 blocks side by side, depth 96 <= 512'],
    [256, 1548, 29, '9x2K: ceil(256/9) = 29 x 1; 18x1K: 15 x 2 = 30; 36x512: 8 x 4 = 32'],
    [48, 3096, 12, '18x1K: 3 x 4 = 12 (36x512: 2 x 7 = 14)'],
    [0, 100, 0, 'nothing to store'],
  ])('%i bits x %i words -> %i blocks (%s)', (w, d, blocks) => {
    expect(bram18Blocks(w, d)).toBe(blocks);
  });
});

describe('URAM geometry (UG573: 72 x 4096, no other aspect ratio)', () => {
  it.each([
    [72, 4096, 1],
    [72, 4097, 2],
    [73, 4096, 2],
    [256, 2304, 4], // ceil(256/72) = 4 wide, one deep
    [384, 49200, 78], // 6 wide x ceil(49200/4096) = 13 deep
    [16, 1, 1], // a 16-bit word still takes a whole URAM
  ])('%i bits x %i words -> %i URAM', (w, d, n) => {
    expect(uramBlocks(w, d)).toBe(n);
  });
});

describe('LUTRAM and physical memories after partition/reshape', () => {
  it('Vitis default storage: LUTRAM up to 64 words deep or 1 Kb, else BRAM', () => {
    expect(defaultStorage(256, 12)).toBe('lutram'); // a weight tile memory of 12 wide words
    expect(defaultStorage(16, 64)).toBe('lutram');
    expect(defaultStorage(16, 65)).toBe('bram'); // 65 deep and 1040 bits
    expect(defaultStorage(32, 33)).toBe('lutram'); // depth 33 <= 64
    expect(defaultStorage(16, 1548)).toBe('bram');
    expect(defaultStorage(8, 100)).toBe('lutram'); // 800 bits
  });
  it('counts one LUT6 per bit per 64 words', () => {
    expect(lutramLuts(256, 48)).toBe(256);
    expect(lutramLuts(16, 65)).toBe(32);
  });
  it('reshape packs elements into wide words; partition splits memories', () => {
    // X of m3vit-tiny: 129 x 192 int16, reshaped by 16 -> 1 memory of 256 b x 1548.
    expect(physicalMemories({ elements: 129 * 192, elemBits: 16, memories: 1, wordElems: 16, copies: 1, copiesShareMemory: false })).toEqual({ width: 256, depth: 1548, count: 1 });
    // Expert ping-pong of m3vit-tiny: 2 x (W1 384x192 + W2 192x384), 8 PE memories of 16-wide words,
    // both halves stacked: per copy 147456 / (8 * 16) = 1152 words, x 2 copies = 2304.
    expect(physicalMemories({ elements: 2 * 384 * 192, elemBits: 16, memories: 8, wordElems: 16, copies: 2, copiesShareMemory: true })).toEqual({ width: 256, depth: 2304, count: 8 });
    // Same copies in separate memories: 16 memories of 1152.
    expect(physicalMemories({ elements: 2 * 384 * 192, elemBits: 16, memories: 8, wordElems: 16, copies: 2, copiesShareMemory: false })).toEqual({ width: 256, depth: 1152, count: 16 });
  });
  it('converts memories to blocks of the chosen storage', () => {
    const m = { width: 256, depth: 2304, count: 8 };
    expect(memoryBlocks(m, 'uram')).toEqual({ BRAM_18K: 0, URAM: 32, LUT: 0 }); // 8 x 4
    // 36x512: 8 wide x ceil(2304/512) = 5 deep = 40 per memory (18x1K: 15 x 3 = 45; 9x2K: 29 x 2 = 58)
    expect(memoryBlocks(m, 'bram')).toEqual({ BRAM_18K: 8 * 40, URAM: 0, LUT: 0 });
  });
});

describe('DSP48E2 multipliers (27 x 18 signed)', () => {
  it.each([
    [16, 16, 1],
    [27, 18, 1],
    [18, 27, 1],
    [8, 8, 1],
    [28, 18, 2], // 27 unsigned bits above the sign need 2 partial products of 26
    [48, 16, 2], // ceil(47/26) = 2 x ceil(15/17) = 1
    [32, 32, 4], // 2 x 2
    [24, 24, 2], // big 24 <= 27 but small 24 > 18: ceil(23/26) = 1 x ceil(23/17) = 2
    [45, 23, 3], // 23 on the 27-bit port (1 piece), 45 on the 18-bit port: 1 + ceil(27/17) = 3
    [64, 64, 12], // 27-bit port: 1 + ceil(37/26) = 3 pieces, 18-bit port: 1 + ceil(46/17) = 4
  ])('%i x %i bits -> %i DSP', (a, b, n) => {
    expect(dspsPerMultiplier(a, b)).toBe(n);
  });
});

describe('loop latency (UG1399)', () => {
  it('pipelined loop: (trip - 1) * II + depth', () => {
    expect(pipelinedLoopCycles(12, 1, 11)).toBe(22);
    expect(pipelinedLoopCycles(10, 2, 5)).toBe(23);
    expect(pipelinedLoopCycles(0, 1, 11)).toBe(0);
  });
  it('sequential loop adds 2 cycles per iteration', () => {
    expect(sequentialLoopCycles(129, 22)).toBe(129 * 24);
  });
  it('dot pipeline depth: 2 BRAM + 3 DSP + log2(lanes) adder levels + 2', () => {
    expect(dotPipelineDepth(16)).toBe(11);
    expect(dotPipelineDepth(1)).toBe(7);
    expect(dotPipelineDepth(12)).toBe(11); // ceil(log2 12) = 4
  });
  it('a 64-bit divide takes one cycle per quotient bit plus 4', () => {
    expect(divLatency(64)).toBe(68);
  });
});

describe('DDR transfers and double buffering', () => {
  it('port rate is the port width unless the DDR share is lower', () => {
    expect(portBytesPerCycle(128, 17, 300)).toBe(16); // 17e9 / 300e6 = 56.7 > 16
    expect(portBytesPerCycle(128, 3, 300)).toBeCloseTo(10, 12); // 3e9 / 300e6
    expect(portBytesPerCycle(128, 17, 300, 4)).toBeCloseTo(56.6667 / 4, 3);
    expect(portBytesPerCycle(64, 17, 300)).toBe(8);
  });
});

describe('roofline, time, energy', () => {
  it('bounds', () => {
    expect(computeBoundCycles(128 * 1000, 128)).toBe(1000);
    expect(memoryBoundCycles(1600, 16)).toBe(100);
    expect(computeBoundCycles(0, 128)).toBe(0);
  });
  it('cycles to ms and energy = power x time', () => {
    expect(cyclesToMs(300e6, 300)).toBe(1000);
    expect(cyclesToMs(72_000_000, 300)).toBe(240);
    expect(energyMj(240, 10)).toBe(2400); // 0.24 s x 10 W = 2.4 J
  });
  it('adder tree of 4 lanes: 2 adders of 33 b, 1 of 34 b, plus the 48-bit accumulator', () => {
    const t = adderTreeLogic(4, 32, 48);
    expect(t.LUT).toBe(2 * 33 + 34 + 48);
    expect(t.FF).toBe(t.LUT + 4 * 32);
  });
  it('MoE gate routing of m3vit-tiny (E 16, k 2, 16-bit logits, 22-bit sum, 18-bit terms), counted bit by bit', () => {
    // Per rank: logit compare 16 + (logit, index) entry mux 16 + 32 + index compare 32 + term
    // mux 18 = 114, two ranks 228; the sum's adder 22; per expert count and fill, each an
    // adder and a mux of 32 bits: 128, 16 experts 2,048; two 16:1 read muxes of 32 bits at
    // ceil(15 / 3) = 5 LUTs per bit: 320. 228 + 22 + 2,048 + 320 = 2,618.
    // FF per rank: logits of stages A and B 32, indices of A, B and C 96, terms of B and C 36:
    // 164, two ranks 328; two sums 44; 16 counts and 16 fills of 32 bits 1,024: 1,396.
    expect(gateRoutingLogic(16, 2, 16, 22, 18)).toEqual({ LUT: 2618, FF: 1396 });
  });
});

// ---------------------------------------------------------------------------------------
// Routing model

/** Exact expected LRU misses by enumerating every routing (each token: an ordered choice
 * of k distinct experts, all equally likely) and running a real LRU cache on each. */
function bruteForceLru(E: number, k: number, S: number, N: number): number {
  const orderedChoices: number[][] = [];
  const build = (prefix: number[]): void => {
    if (prefix.length === k) {
      orderedChoices.push(prefix);
      return;
    }
    for (let e = 0; e < E; e++) if (!prefix.includes(e)) build([...prefix, e]);
  };
  build([]);
  let total = 0;
  let count = 0;
  const walk = (t: number, cache: number[], misses: number): void => {
    if (t === N) {
      total += misses;
      count++;
      return;
    }
    for (const choice of orderedChoices) {
      let c = cache;
      let m = misses;
      for (const e of choice) {
        const i = c.indexOf(e);
        if (i >= 0) c = [e, ...c.slice(0, i), ...c.slice(i + 1)];
        else {
          m++;
          c = [e, ...c].slice(0, S);
        }
      }
      walk(t + 1, c, m);
    }
  };
  walk(0, [], 0);
  return total / count;
}

/** Monte Carlo with a fixed seed (mulberry32), a real LRU cache. */
function simulateLru(E: number, k: number, S: number, N: number, trials: number, seed: number): { mean: number; stderr: number } {
  let s = seed >>> 0;
  const rand = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const xs: number[] = [];
  for (let r = 0; r < trials; r++) {
    let cache: number[] = [];
    let misses = 0;
    for (let t = 0; t < N; t++) {
      const pool = Array.from({ length: E }, (_, i) => i);
      for (let j = 0; j < k; j++) {
        const pick = j + Math.floor(rand() * (E - j));
        [pool[j], pool[pick]] = [pool[pick], pool[j]];
        const e = pool[j];
        const i = cache.indexOf(e);
        if (i >= 0) cache.splice(i, 1);
        else misses++;
        cache = [e, ...cache].slice(0, S);
      }
    }
    xs.push(misses);
  }
  const mean = xs.reduce((a, b) => a + b, 0) / trials;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (trials - 1));
  return { mean, stderr: sd / Math.sqrt(trials) };
}

describe('routing model: expected experts used (expert-major loads)', () => {
  it('one token uses exactly k experts; two tokens 2k - k^2/E on average', () => {
    expect(expectedExpertsUsed(16, 2, 1)).toBeCloseTo(2, 12);
    // second token adds 2 * (14/16) new experts on average: 2 + 1.75.
    expect(expectedExpertsUsed(16, 2, 2)).toBeCloseTo(3.75, 12);
    expect(expectedExpertsUsed(16, 4, 1025)).toBeCloseTo(16, 9);
  });
});

/** Exact expected token groups by enumerating every routing: per expert ceil(queue / group). */
function bruteForceGroups(E: number, k: number, N: number, group: number): number {
  const choices: number[][] = [];
  const build = (prefix: number[], from: number): void => {
    if (prefix.length === k) return void choices.push(prefix);
    for (let e = from; e < E; e++) build([...prefix, e], e + 1);
  };
  build([], 0); // unordered sets of k distinct experts, all equally likely
  let total = 0;
  let count = 0;
  const walk = (t: number, queue: number[]): void => {
    if (t === N) {
      total += queue.reduce((s, q) => s + Math.ceil(q / group), 0);
      count++;
      return;
    }
    for (const c of choices) {
      const next = [...queue];
      for (const e of c) next[e]++;
      walk(t + 1, next);
    }
  };
  walk(0, Array(E).fill(0));
  return total / count;
}

describe('routing model: expected token groups (expert-major cuts each queue into groups of BLOCK_PARTS)', () => {
  it('groups of one token are the (token, expert) pairs; one token is k groups', () => {
    expect(expectedTokenGroups(16, 2, 129, 1)).toBeCloseTo(258, 9);
    expect(expectedTokenGroups(16, 4, 1, 8)).toBeCloseTo(4, 12);
  });
  it('E = 2, k = 1, N = 2, groups of 2: queues (2, 0) or (1, 1) equally likely -> 1 or 2 groups -> 1.5', () => {
    expect(expectedTokenGroups(2, 1, 2, 2)).toBeCloseTo(1.5, 12);
  });
  it('every token on every expert (k = E): E x ceil(N / group)', () => {
    expect(expectedTokenGroups(4, 4, 9, 4)).toBe(4 * 3);
  });
  it.each([
    [4, 2, 3, 2],
    [4, 1, 4, 3],
    [5, 2, 3, 2],
    [3, 2, 4, 4],
  ])('equals a brute-force enumeration: E=%i k=%i N=%i group=%i', (E, k, N, g) => {
    expect(expectedTokenGroups(E, k, N, g)).toBeCloseTo(bruteForceGroups(E, k, N, g), 10);
  });
});

/** Every routing's queues, equally likely (as bruteForceGroups). */
function allQueues(E: number, k: number, N: number): number[][] {
  const choices: number[][] = [];
  const build = (prefix: number[], from: number): void => {
    if (prefix.length === k) return void choices.push(prefix);
    for (let e = from; e < E; e++) build([...prefix, e], e + 1);
  };
  build([], 0);
  const out: number[][] = [];
  const walk = (t: number, queue: number[]): void => {
    if (t === N) return void out.push(queue);
    for (const c of choices) {
      const next = [...queue];
      for (const e of c) next[e]++;
      walk(t + 1, next);
    }
  };
  walk(0, Array(E).fill(0));
  return out;
}

/** expert_major's streamed loads of one routing, as kernels/moe.h runs them: the used experts
 * ascending, the first burst alone, each next one sliced over the previous expert's jobs. */
function streamingOf(queues: number[], group: number, jobSteps: number, W: number): number[] {
  const used = queues.filter((q) => q > 0);
  let aloneWords = W;
  let aloneJobs = 1;
  let loadingJobs = 1;
  used.forEach((q, i) => {
    if (i + 1 === used.length) return;
    let left = W;
    for (let j = 0; j < 2 * Math.ceil(q / group) && left > 0; j++) {
      left -= Math.min(left, jobSteps);
      loadingJobs++;
    }
    if (left > 0) {
      aloneWords += left;
      aloneJobs++;
      loadingJobs++;
    }
  });
  return [aloneWords, aloneJobs, loadingJobs];
}

describe('routing model: expert-major streaming (the next expert rides on the current one\'s jobs)', () => {
  it('every token on every expert (k = E), by hand: E=4, N=9, groups of 4, jobs of 8 steps, bursts of 100 words', () => {
    // Each expert: 3 groups = 6 jobs = 48 steps, so 52 of the next burst's words load alone.
    // The first burst alone (100), then 3 carrying experts (the last carries none): 100 + 3 x 52.
    const e = expectedExpertStreaming(4, 4, 9, 4, 16, 100);
    expect(e.used).toBe(4);
    expect(e.groups).toBe(12);
    expect(e.aloneWords).toBeCloseTo(100 + 3 * 52, 12);
    expect(e.aloneJobs).toBeCloseTo(1 + 3, 12);
    // Loading jobs: the first, then per carrying expert its 6 jobs and the job for the rest.
    expect(e.loadingJobs).toBeCloseTo(1 + 3 * (6 + 1), 12);
  });
  it('queues long enough for every burst: nothing loads alone but the first', () => {
    // E=2, k=1, N=3, groups of 1, jobs of 8 steps, bursts of 16 words: a used expert has at
    // least 2 jobs (16 steps), so the first used one carries the second's burst whole.
    const e = expectedExpertStreaming(2, 1, 3, 1, 16, 16);
    expect(e.aloneWords).toBeCloseTo(16, 12);
    expect(e.aloneJobs).toBeCloseTo(1, 12);
  });
  it.each([
    [4, 2, 3, 2, 8, 40],
    [4, 1, 4, 1, 4, 20],
    [3, 2, 4, 2, 8, 24],
  ])('is close to a brute-force enumeration (the last used expert approximated): E=%i k=%i N=%i group=%i job steps=%i burst=%i', (E, k, N, g, jobSteps, W) => {
    const all = allQueues(E, k, N).map((q) => streamingOf(q, g, jobSteps, W));
    const exact = [0, 1, 2].map((i) => all.reduce((a, r) => a + r[i], 0) / all.length);
    const e = expectedExpertStreaming(E, k, N, g, 2 * jobSteps, W);
    const model = [e.aloneWords, e.aloneJobs, e.loadingJobs];
    const rel = model.map((m, i) => Math.abs(m - exact[i]) / exact[i]);
    figure(`expert streaming model vs enumeration E=${E} k=${k} N=${N}: words alone ${model[0].toFixed(2)} vs ${exact[0].toFixed(2)}, jobs alone ${model[1].toFixed(3)} vs ${exact[1].toFixed(3)}, loading jobs ${model[2].toFixed(3)} vs ${exact[2].toFixed(3)} (max relative error ${(100 * Math.max(...rel)).toFixed(1)}%)`);
    // The used experts and groups are exact; the streaming terms are within 5% on these small
    // cases (N of a few tokens, where the last used expert is least typical).
    expect(e.used).toBeCloseTo(expectedExpertsUsed(E, k, N), 12);
    expect(e.groups).toBeCloseTo(expectedTokenGroups(E, k, N, g), 10);
    for (const r of rel) expect(r).toBeLessThan(0.05);
  });
});

describe('routing model: token-major LRU misses (Markov chain)', () => {
  it('k = 1, S = 1, E = 2, N = 2: first lookup misses, second hits half the time -> 1.5', () => {
    expect(expectedLruMisses(2, 1, 1, 2)).toBeCloseTo(1.5, 12);
  });
  it('a cache as large as E misses each expert once at most (cold misses only)', () => {
    // E = 4, k = 2, S = 4: misses = expected distinct experts used.
    for (const n of [1, 2, 3, 10]) expect(expectedLruMisses(4, 2, 4, n)).toBeCloseTo(expectedExpertsUsed(4, 2, n), 10);
  });
  it('steady state with k <= S: the i-th lookup of a token hits with probability (S - i) / (E - i)', () => {
    // Once the cache is full, before the i-th lookup of a token S - i slots hold experts the
    // token has not used (each earlier lookup either hit one of them or evicted one), and the
    // lookup is uniform over the E - i experts it has not used: E=16, k=2, S=4 ->
    // misses per token = (1 - 4/16) + (1 - 3/15) = 1.55.
    const n = 2000;
    const perToken = expectedLruMisses(16, 2, 4, n + 1) - expectedLruMisses(16, 2, 4, n);
    expect(perToken).toBeCloseTo(1 - 4 / 16 + (1 - 3 / 15), 9);
  });
  it.each([
    [4, 2, 1, 3],
    [4, 2, 2, 3],
    [4, 2, 3, 3],
    [5, 3, 2, 2],
    [4, 3, 1, 3],
    [3, 1, 2, 4],
  ])('equals a brute-force enumeration of a real LRU: E=%i k=%i S=%i N=%i', (E, k, S, N) => {
    expect(expectedLruMisses(E, k, S, N)).toBeCloseTo(bruteForceLru(E, k, S, N), 10);
  });
  it('agrees with a seeded Monte Carlo simulation for ViT-S (E=16, k=4, S=2, N=1025) within 4 standard errors', () => {
    const exact = expectedLruMisses(16, 4, 2, 1025);
    const sim = simulateLru(16, 4, 2, 1025, 200, 12345);
    figure(`ViT-S token-major LRU(2) misses per layer: Markov ${exact.toFixed(2)}, simulation ${sim.mean.toFixed(2)} +- ${sim.stderr.toFixed(2)} (200 runs, seed 12345)`);
    expect(Math.abs(exact - sim.mean)).toBeLessThan(4 * sim.stderr);
  });
});
