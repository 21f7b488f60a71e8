// A reader for JAAS login configuration files, the format Apache ZooKeeper's
// SASL settings live in (java.security.auth.login.config):
//
//   file    := section*
//   section := NAME '{' entry* '}' ';'
//   entry   := LOGIN_MODULE_CLASS FLAG option* ';'
//   option  := KEY '=' VALUE            VALUE: "quoted, with \ escapes" or a bare word
//   FLAG    := required | requisite | sufficient | optional
//   comments: // to the end of the line, /* ... */ (and # lines, which Java rejects; tolerated)
//
// zoonode takes the DIGEST-MD5 users from the server section (by default
// `Server`): every option `user_<name>="<password>"`, as Apache's
// SaslServerCallbackHandler does. Errors name the file and line.

export class JaasError extends Error {
  override name = 'JaasError';
  constructor(readonly file: string, readonly line: number, message: string) {
    super(`${file}:${line}: ${message}`);
  }
}

export interface JaasEntry {
  loginModule: string;
  flag: string;
  options: Map<string, string>;
  line: number;
}

interface Token { kind: 'word' | 'string' | 'punct'; text: string; line: number }

const flags = new Set(['required', 'requisite', 'sufficient', 'optional']);

function tokenize(text: string, file: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') { line++; i++; continue; }
    if (/\s/.test(c)) { i++; continue; }
    if (c === '/' && text[i + 1] === '/') { while (i < text.length && text[i] !== '\n') i++; continue; }
    if (c === '#') { while (i < text.length && text[i] !== '\n') i++; continue; }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new JaasError(file, line, 'unterminated /* comment');
      for (let k = i; k < end; k++) if (text[k] === '\n') line++;
      i = end + 2;
      continue;
    }
    if (c === '{' || c === '}' || c === ';' || c === '=') { out.push({ kind: 'punct', text: c, line }); i++; continue; }
    if (c === '"') {
      const start = line;
      let s = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new JaasError(file, start, 'unterminated quoted string');
        const d = text[i]!;
        if (d === '"') { i++; break; }
        if (d === '\n') line++;
        if (d === '\\' && i + 1 < text.length) {
          const e = text[i + 1]!;
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
          i += 2;
          continue;
        }
        s += d;
        i++;
      }
      out.push({ kind: 'string', text: s, line: start });
      continue;
    }
    const m = /^[^\s{};="/#]+/.exec(text.slice(i, i + 4096));
    if (m === null) throw new JaasError(file, line, `unexpected character '${c}'`);
    out.push({ kind: 'word', text: m[0], line });
    i += m[0].length;
  }
  return out;
}

/** Parses a JAAS file's text into its sections (name → entries). */
export function parseJaas(text: string, file: string): Map<string, JaasEntry[]> {
  const toks = tokenize(text, file);
  const sections = new Map<string, JaasEntry[]>();
  let p = 0;
  const lastLine = toks.length > 0 ? toks[toks.length - 1]!.line : 1;
  const next = (what: string): Token => {
    const t = toks[p++];
    if (t === undefined) throw new JaasError(file, lastLine, `unexpected end of file, expected ${what}`);
    return t;
  };
  const expectPunct = (ch: string): Token => {
    const t = next(`'${ch}'`);
    if (t.kind !== 'punct' || t.text !== ch) throw new JaasError(file, t.line, `expected '${ch}', found '${t.text}'`);
    return t;
  };
  while (p < toks.length) {
    const name = next('a section name');
    if (name.kind === 'punct') throw new JaasError(file, name.line, `expected a section name, found '${name.text}'`);
    expectPunct('{');
    const entries: JaasEntry[] = [];
    for (;;) {
      const t = next("a login module class or '}'");
      if (t.kind === 'punct' && t.text === '}') break;
      if (t.kind !== 'word') throw new JaasError(file, t.line, `expected a login module class, found '${t.text}'`);
      const flag = next('a control flag');
      if (flag.kind !== 'word' || !flags.has(flag.text.toLowerCase())) {
        throw new JaasError(file, flag.line, `expected a control flag (required, requisite, sufficient, optional) after ${t.text}, found '${flag.text}'`);
      }
      const options = new Map<string, string>();
      for (;;) {
        const k = next("an option or ';'");
        if (k.kind === 'punct' && k.text === ';') break;
        if (k.kind !== 'word') throw new JaasError(file, k.line, `expected an option name, found '${k.text}'`);
        expectPunct('=');
        const v = next(`a value for ${k.text}`);
        if (v.kind === 'punct') throw new JaasError(file, v.line, `expected a value for ${k.text}, found '${v.text}'`);
        options.set(k.text, v.text);
      }
      entries.push({ loginModule: t.text, flag: flag.text.toLowerCase(), options, line: t.line });
    }
    if (toks[p]?.kind === 'punct' && toks[p]!.text === ';') p++;
    if (sections.has(name.text)) throw new JaasError(file, name.line, `section '${name.text}' appears twice`);
    sections.set(name.text, entries);
  }
  return sections;
}

/** DIGEST-MD5 users (name → password) of a section: its user_<name> options. */
export function digestUsers(entries: readonly JaasEntry[]): Map<string, string> {
  const users = new Map<string, string>();
  for (const e of entries) {
    for (const [k, v] of e.options) if (k.startsWith('user_')) users.set(k.slice('user_'.length), v);
  }
  return users;
}
