import { isIP } from 'node:net';
import { z } from 'zod';

/** Field types the config schemas share. */
export const portSchema = z.number().int().min(0).max(65535);
export const positiveMs = z.number().int().min(1).max(24 * 3600 * 1000);
export const pathSchema = z.string().startsWith('/', 'must start with "/"');
/** An HTTP header name, lower-cased (uWS and undici hand header names over in lower case). */
export const headerNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name')
  .transform((name) => name.toLowerCase());
/** An IP address, or a CIDR range of them (`10.0.0.0/8`, `fd00::/8`). */
export const addressRangeSchema = z.string().refine((text) => {
  const [address, bits, extra] = text.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  // An IPv4-mapped range shorter than /96 would cover every IPv4 client, whatever it says after ::ffff:.
  const floor = family === 6 && /^::ffff:/i.test(address ?? '') ? 96 : 0;
  return /^\d{1,3}$/.test(bits) && Number(bits) >= floor && Number(bits) <= (family === 4 ? 32 : 128);
}, 'must be an IP address or a CIDR range (address/bits; an IPv4-mapped one at least /96)');
