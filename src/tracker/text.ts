/** Tracker-supplied text (failure reasons, warnings) made safe to log: bounded, no control characters. */
export function printableText(bytes: Uint8Array, maxBytes = 1024): string {
  const s = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, maxBytes)).toString(
    'utf8',
  );
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    out += (c < 0x20 && c !== 0x09 && c !== 0x0a) || c === 0x7f ? '?' : ch;
  }
  return out;
}
