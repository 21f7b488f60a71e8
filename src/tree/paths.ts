// Znode path rules, as Apache's PathUtils.validatePath applies them:
// absolute, no trailing '/', no empty segment, no '.' or '..' segment, no NUL,
// no control characters (U+0001-U+001F, U+007F-U+009F), no surrogates or
// private-use (U+D800-U+F8FF), nothing in U+FFF0-U+FFFF (which includes the
// U+FFFD that invalid UTF-8 decodes to).

/** Returns why the path is invalid, or null if it is valid. */
export function pathError(path: string): string | null {
  const n = path.length;
  if (n === 0) return 'path length must be > 0';
  if (path.charCodeAt(0) !== 0x2f) return 'path must start with / character';
  if (n === 1) return null;
  if (path.charCodeAt(n - 1) === 0x2f) return 'path must not end with / character';
  let last = 0x2f;
  for (let i = 1; i < n; i++) {
    const c = path.charCodeAt(i);
    if (c === 0) return `null character not allowed @${i}`;
    if (c === 0x2f && last === 0x2f) return `empty node name specified @${i}`;
    if (c === 0x2e && last === 0x2e) {
      if (path.charCodeAt(i - 2) === 0x2f && (i + 1 === n || path.charCodeAt(i + 1) === 0x2f)) {
        return `relative paths not allowed @${i}`;
      }
    } else if (c === 0x2e) {
      if (path.charCodeAt(i - 1) === 0x2f && (i + 1 === n || path.charCodeAt(i + 1) === 0x2f)) {
        return `relative paths not allowed @${i}`;
      }
    } else if ((c > 0 && c <= 0x1f) || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xf8ff) || c >= 0xfff0) {
      return `invalid character @${i}`;
    }
    last = c;
  }
  return null;
}

/** The parent path as Apache computes it: everything before the last '/' ("" for a top-level node). */
export function parentPath(path: string): string {
  return path.substring(0, path.lastIndexOf('/'));
}

export function childName(path: string): string {
  return path.substring(path.lastIndexOf('/') + 1);
}

export const ROOT_PATH = '/';
export const PROC_PATH = '/zookeeper';
export const QUOTA_PATH = '/zookeeper/quota';
export const CONFIG_PATH = '/zookeeper/config';

/** Paths clients may not delete or create over. */
export function isSpecialPath(path: string): boolean {
  return path === ROOT_PATH || path === PROC_PATH || path === QUOTA_PATH || path === CONFIG_PATH;
}
