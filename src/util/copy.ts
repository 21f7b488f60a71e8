// Copying a few bytes between buffers without allocating. Buffer#copy with
// offsets, and set() of a subarray, both make a view object per call (about
// 100 bytes on Node 20): once per request on the reply path. A JS loop over a
// short range allocates nothing and costs less than making the view.

/** Ranges up to this many bytes are copied by the loop; longer ones by set() of a view. */
export const loopCopyMax = 256;

/** Copies src[start, end) into dst at `at` (the ranges must not overlap). */
export function copyBytes(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): void {
  const n = end - start;
  if (n <= loopCopyMax) {
    for (let i = 0; i < n; i++) dst[at + i] = src[start + i]!;
  } else {
    dst.set(src.subarray(start, end), at);
  }
}
