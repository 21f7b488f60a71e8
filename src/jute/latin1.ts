// Znode data is kept as one-byte (latin1) strings: byte i is char code i.
// These convert at the edges, where bytes come from a client request or go
// to something that wants bytes (quota parsing, tests).

export function latin1FromBytes(bytes: Uint8Array | null): string | null {
  if (bytes === null) return null;
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return b.toString('latin1');
}

export function bytesFromLatin1(data: string | null): Buffer | null {
  return data === null ? null : Buffer.from(data, 'latin1');
}
