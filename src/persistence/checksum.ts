// Adler-32 (RFC 1950), the checksum of Apache ZooKeeper's txn log entries and
// snapshot seals, plus combine() so chunks checksummed separately (in
// parallel) give the checksum of their concatenation.

const BASE = 65521;
/** Largest n such that 255n(n+1)/2 + (n+1)(BASE-1) < 2^32: sums stay exact between reductions. */
const NMAX = 5552;

export function adler32(buf: Uint8Array, start = 0, end = buf.length, initial = 1): number {
  let a = initial & 0xffff;
  let b = (initial >>> 16) & 0xffff;
  let i = start;
  while (i < end) {
    const stop = Math.min(end, i + NMAX);
    // Eight bytes a step: b gains 8a + 8x0 + 7x1 + ... + x7, the same sums as
    // eight single steps with a shorter dependency chain (~1.4x faster here).
    for (const stop8 = stop - 8; i <= stop8; i += 8) {
      const x0 = buf[i]!, x1 = buf[i + 1]!, x2 = buf[i + 2]!, x3 = buf[i + 3]!;
      const x4 = buf[i + 4]!, x5 = buf[i + 5]!, x6 = buf[i + 6]!, x7 = buf[i + 7]!;
      b += 8 * a + 8 * x0 + 7 * x1 + 6 * x2 + 5 * x3 + 4 * x4 + 3 * x5 + 2 * x6 + x7;
      a += x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7;
    }
    for (; i < stop; i++) {
      a += buf[i]!;
      b += a;
    }
    a %= BASE;
    b %= BASE;
  }
  return ((b << 16) | a) >>> 0;
}

/** The Adler-32 of A + B, given adler(A), adler(B) and B's length. */
export function adler32Combine(adlerA: number, adlerB: number, lenB: number): number {
  const rem = lenB % BASE;
  let sum1 = adlerA & 0xffff;
  let sum2 = (rem * sum1) % BASE;
  sum1 += (adlerB & 0xffff) + BASE - 1;
  sum2 += ((adlerA >>> 16) & 0xffff) + ((adlerB >>> 16) & 0xffff) + BASE - rem;
  if (sum1 >= BASE) sum1 -= BASE;
  if (sum1 >= BASE) sum1 -= BASE;
  if (sum2 >= BASE * 2) sum2 -= BASE * 2;
  if (sum2 >= BASE) sum2 -= BASE;
  return ((sum2 << 16) | sum1) >>> 0;
}
