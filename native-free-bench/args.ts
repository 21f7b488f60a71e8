// Option values for the separate benchmark scripts (idle.js, floor.js, alloc.js).

/** `raw`, the value given to option `name`, as a positive number (an integer if asked); throws naming the option otherwise. */
export function positiveArg(name: string, raw: string | undefined, integer = false): number {
  const v = Number(raw);
  if (integer ? !Number.isInteger(v) || v <= 0 : !Number.isFinite(v) || v <= 0) {
    throw new Error(`${name}: expected a positive ${integer ? 'integer' : 'number'}`);
  }
  return v;
}
