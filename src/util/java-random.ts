// java.util.Random, enough of it to derive session passwords exactly as
// Apache ZooKeeper does (new Random(sessionId ^ 0xB3415C00L).nextBytes(16)),
// so a session created here can be resumed on an Apache server and back.
//
// The 48-bit seed is held as two 24-bit halves in plain numbers: every
// product of the linear congruential step stays below 2^53, so it is exact,
// and nothing is allocated (one handshake cost four bigint steps before).

/** 0x5DEECE66D, Java's multiplier, as 24-bit halves. */
const MUL_HI = 0x5de;
const MUL_LO = 0xece66d;
const ADDEND = 0xb;
const TWO24 = 0x1000000;

export class JavaRandom {
  private hi: number;
  private lo: number;

  constructor(seed: bigint) {
    const s = (BigInt.asUintN(64, seed) ^ 0x5deece66dn) & 0xffffffffffffn;
    this.hi = Number(s >> 24n);
    this.lo = Number(s & 0xffffffn);
  }

  /** The next `bits` (1–32) bits, as Java's Random.next(bits) returns them (an int). */
  private next(bits: number): number {
    // seed = (seed * MUL + ADDEND) mod 2^48, with seed = hi * 2^24 + lo.
    const oldLo = this.lo;
    const lo = oldLo * MUL_LO + ADDEND; // < 2^48
    const carry = Math.floor(lo / TWO24);
    this.lo = lo - carry * TWO24;
    // hi * MUL_HI * 2^48 vanishes mod 2^48; the rest stays below 2^49.
    this.hi = (this.hi * MUL_LO + oldLo * MUL_HI + carry) % TWO24;
    // (int)(seed >>> (48 - bits)); the top 32 bits are hi:lo[23..16].
    const top32 = this.hi * 256 + Math.floor(this.lo / 65536);
    return (bits === 32 ? top32 : Math.floor(top32 / 2 ** (32 - bits))) | 0;
  }

  nextInt(): number {
    return this.next(32);
  }

  nextBytes(out: Uint8Array): void {
    let i = 0;
    while (i < out.length) {
      let rnd = this.nextInt();
      for (let n = Math.min(out.length - i, 4); n > 0; n--) {
        out[i++] = rnd & 0xff;
        rnd >>= 8;
      }
    }
  }
}

const SUPER_SECRET = 0xb3415c00n;

export function sessionPassword(sessionId: bigint): Uint8Array {
  const out = new Uint8Array(16);
  new JavaRandom(sessionId ^ SUPER_SECRET).nextBytes(out);
  return out;
}
