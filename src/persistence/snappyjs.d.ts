declare module 'snappyjs' {
  export function compress(input: Uint8Array | ArrayBuffer): Uint8Array | ArrayBuffer;
  export function uncompress(input: Uint8Array | ArrayBuffer, maxLength?: number): Uint8Array | ArrayBuffer;
  const SnappyJS: { compress: typeof compress; uncompress: typeof uncompress };
  export default SnappyJS;
}
