/** Longest tenant id accepted, in bytes (the allowed charset is ASCII, so bytes = UTF-16 units). */
export const MAX_TENANT_ID_BYTES = 128;

// [A-Za-z0-9._:-] as a lookup table: one array read per character, no regex on the hot path.
const ALLOWED = new Uint8Array(128);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-') ALLOWED[ch.charCodeAt(0)] = 1;

export function isValidTenantId(id: string): boolean {
  const length = id.length;
  if (length === 0 || length > MAX_TENANT_ID_BYTES) return false;
  for (let i = 0; i < length; i++) {
    const code = id.charCodeAt(i);
    if (code >= 128 || ALLOWED[code] === 0) return false;
  }
  return true;
}
