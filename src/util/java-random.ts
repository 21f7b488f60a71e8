// java.util.Random, enough of it to derive session passwords exactly as
// Apache ZooKeeper does (new Random(sessionId ^ 0xB3415C00L).nextBytes(16)),
// so a session created here can be resumed on an Apache server and back.
// Cold path (one call per session handshake): bigint arithmetic is fine.

const MULTIPLIER = 0x5deece66dn;
const ADDEND = 0xbn;
const MASK = (1n << 48n) - 1n;

export class JavaRandom {
  private seed: bigint;

  constructor(seed: bigint) {
    this.seed = (BigInt.asUintN(64, seed) ^ MULTIPLIER) & MASK;
  }

  private next(bits: number): number {
    this.seed = (this.seed * MULTIPLIER + ADDEND) & MASK;
    return Number(BigInt.asIntN(32, this.seed >> BigInt(48 - bits)));
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
