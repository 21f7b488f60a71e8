// Four-letter words: a connection whose first four bytes spell a known word
// gets a plain-text answer instead of a session. The word arrives as the
// int32 that would otherwise be a frame length.

export interface FourLetterContext {
  /** Words allowed by 4lw.commands.whitelist ('*' allows all). */
  readonly whitelist: ReadonlySet<string>;
}

function wordToInt(w: string): number {
  return ((w.charCodeAt(0) << 24) | (w.charCodeAt(1) << 16) | (w.charCodeAt(2) << 8) | w.charCodeAt(3)) | 0;
}

type Handler = () => string;

const handlers = new Map<number, [string, Handler]>();
function word(name: string, fn: Handler): void {
  handlers.set(wordToInt(name), [name, fn]);
}

word('ruok', () => 'imok');
// A standalone server always serves writes.
word('isro', () => 'rw');

export function parseWhitelist(spec: string): Set<string> {
  const out = new Set<string>();
  for (const part of spec.split(/[\s,]+/)) if (part !== '') out.add(part.trim());
  return out;
}

/** The answer to a four-letter word, or null if `word` is not one. */
export function answerFourLetterWord(ctx: FourLetterContext, word: number): string | null {
  const h = handlers.get(word);
  if (h === undefined) return null;
  const [name, fn] = h;
  if (!ctx.whitelist.has('*') && !ctx.whitelist.has(name)) {
    return `${name} is not executed because it is not in the whitelist.\n`;
  }
  return fn();
}
