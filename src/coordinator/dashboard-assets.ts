import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';

/**
 * The dashboard's static page, script and stylesheet: the package's `dashboard/` folder, two levels
 * up from this module in src/ and in dist/ alike (tsc copies no file that is not TypeScript).
 */
const ASSETS_DIR = new URL('../../dashboard/', import.meta.url);

/** Admin path → file and content type. The page names the others by these absolute paths. */
const FILES: Readonly<Record<string, readonly [file: string, contentType: string]>> = {
  '/dashboard': ['index.html', 'text/html; charset=utf-8'],
  '/dashboard/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/dashboard/style.css': ['style.css', 'text/css; charset=utf-8'],
};

/**
 * The page's data comes only from its own origin's JSON, put in the DOM as text: the policy
 * forbids inline script and any other origin, so even a value that slipped through as markup
 * could run nothing.
 */
const HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

export interface DashboardAsset {
  readonly contentType: string;
  readonly body: Buffer;
}

/**
 * Read once, when the admin server starts: a package without its dashboard folder is broken, and
 * says so at start-up rather than at the first page view.
 */
export function loadDashboardAssets(dir: URL = ASSETS_DIR): ReadonlyMap<string, DashboardAsset> {
  return new Map(
    Object.entries(FILES).map(([path, [file, contentType]]) => {
      const url = new URL(file, dir);
      try {
        return [path, { contentType, body: readFileSync(url) }] as const;
      } catch (err) {
        throw new Error(`dashboard asset ${fileURLToPath(url)} unreadable (the package's dashboard/ folder): ${(err as Error).message}`);
      }
    }),
  );
}

/** An asset carries no data, so it needs no token (the page's JSON reads do). */
export function answerAsset(res: ServerResponse, asset: DashboardAsset): void {
  res.writeHead(200, { ...HEADERS, 'content-type': asset.contentType, 'content-length': asset.body.length }).end(asset.body);
}
