// 64-bit helpers. Jute longs are signed 64-bit big-endian. zoonode keeps
// zxids as JS numbers (exact up to 2^53: epoch < 2^21), and session ids,
// whose high byte is the server id, as (hi, lo) int32 pairs on hot paths and
// as bigint where a map key or arithmetic is needed.

export const TWO_32 = 4294967296;

/** hi is the signed high word, lo the unsigned low word. */
export function hiLoToNumber(hi: number, lo: number): number {
  return hi * TWO_32 + (lo >>> 0);
}

export function numberHi(n: number): number {
  return Math.floor(n / TWO_32) | 0;
}

export function numberLo(n: number): number {
  return (n % TWO_32 + TWO_32) % TWO_32 | 0;
}

export function hiLoToBigInt(hi: number, lo: number): bigint {
  return (BigInt(hi | 0) << 32n) | BigInt(lo >>> 0);
}

export function bigIntHi(v: bigint): number {
  return Number(BigInt.asIntN(32, v >> 32n));
}

export function bigIntLo(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}

/** Lower-case hex of the unsigned 64-bit value, no leading zeros, as Java's Long.toHexString. */
export function hex64(v: bigint | number): string {
  const b = typeof v === 'bigint' ? v : BigInt(v);
  return BigInt.asUintN(64, b).toString(16);
}
