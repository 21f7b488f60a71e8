// Four-letter words: a connection whose first four bytes spell one gets a
// plain-text answer instead of a session. The word arrives as the int32 that
// would otherwise be a frame length; the admin hub formats the answer.

export const fourLetterWords = [
  'conf', 'cons', 'crst', 'dirs', 'dump', 'envi', 'gtmk', 'ruok', 'stmk', 'srvr', 'srst', 'stat',
  'wchc', 'wchp', 'wchs', 'mntr', 'isro', 'hash',
] as const;

const byInt = new Map<number, string>(fourLetterWords.map((w) => [Buffer.from(w).readInt32BE(0), w]));

/** The word a connection's first four bytes spell, or null if they are not one (then they are a frame length). */
export function fourLetterWordName(word: number): string | null {
  return byInt.get(word) ?? null;
}

export function parseWhitelist(spec: string): Set<string> {
  const out = new Set<string>();
  for (const part of spec.split(/[\s,]+/)) if (part !== '') out.add(part.trim());
  return out;
}
