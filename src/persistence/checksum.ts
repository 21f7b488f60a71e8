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
