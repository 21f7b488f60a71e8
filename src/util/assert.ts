// Assertions stay on in production: they guard invariants at module boundaries,
// and a broken invariant must stop the thread loudly rather than corrupt state.

export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function unreachable(value: never, what: string): never {
  throw new AssertionError(`unreachable: unexpected ${what}: ${String(value)}`);
}
