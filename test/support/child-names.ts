// Test support: the 40 child names the children-order tests share. Apache
// 3.8's listings of them as they are created and deleted were recorded by
// test/compat/differential-more.test.ts (the children order scenario) and
// are asserted in test/tree/data-tree.test.ts.

/** job0, n17, lease34, x10, job27, ...: not created in the order any table lists them. */
export function scrambledChildNames(n = 40): string[] {
  return Array.from({ length: n }, (_, i) => `${['job', 'n', 'lease', 'x'][i % 4]}${(i * 17) % 41}`);
}
