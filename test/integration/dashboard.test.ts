import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { launchChromium } from '../helpers/browser.js';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { send } from '../helpers/http.js';
import { steadyTraffic } from '../helpers/traffic.js';

const OUTPUT = fileURLToPath(new URL('../../test-output/', import.meta.url));
const TOKEN = 'test-admin-token-0123456789';
/** A zone is any string in the config: the page must show it as text, never as markup. */
const MARKUP_ZONE = '<img src=x onerror="window.pwned=1">';
/** The tenant whose requests the backends hold: its score (latency, ms) passes GATEWAY_HOT_SCORE (100). */
const HOT = 'hot-tenant';
const HOT_DELAY_MS = 150;

let browser: Browser;
let gateway: GatewayProcess | undefined;
let backends: Backend[] = [];
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
  if (gateway) expect(await gateway.stop()).toBe(0);
  await Promise.all(backends.map((b) => b.close()));
  gateway = undefined;
  backends = [];
});

async function startCluster(zones: string[]): Promise<{ routes: object[]; clusters: object }> {
  backends = await Promise.all(
    zones.map((_, i) =>
      startBackend(`n${i}`, (req, res, id) => {
        req.resume();
        const delay = req.headers['x-tenant-id'] === HOT ? HOT_DELAY_MS : 0;
        setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ backend: id })), delay);
      }),
    ),
  );
  // A second cluster named as a property every object has: the page must not take it for a tenant's.
  return {
    routes: [{ prefix: '/', cluster: 'c' }, { prefix: '/by-header/', cluster: 'constructor', hashOn: { header: 'x-h' } }],
    clusters: { c: { nodes: backends.map((b, i) => ({ id: b.id, url: b.url, az: zones[i] })) }, constructor: { nodes: [{ id: 'k0', url: backends[0]!.url }] } },
  };
}

/** `concurrency` loops sending the hot tenant's requests until the test ends. */
function hotTraffic(port: number, concurrency: number): void {
  let running = true;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) await send(port, '/', { tenant: HOT }).catch(() => undefined);
  });
  stops.push(async () => {
    running = false;
    await Promise.all(loops);
  });
}

/** Errors the page's script threw or logged: a dashboard that works shows none. */
function scriptErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  return errors;
}

const cellText = (page: Page, selector: string): Promise<string> => page.locator(selector).innerText();

describe('the dashboard (/dashboard on the admin port, in headless Chromium)', () => {
  it('shows the ring, a hot tenant with its k and candidates, live counters and rebalance events', async () => {
    const config = await startCluster(['zone-a', 'zone-b', MARKUP_ZONE]);
    gateway = await startGateway(config, { GATEWAY_SCORE_WINDOW_MS: '200' });
    const traffic = steadyTraffic(gateway.port, '/', 2);
    stops.push(traffic.stop);
    hotTraffic(gateway.port, 4);

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors = scriptErrors(page);
    await page.goto(`http://127.0.0.1:${gateway.adminPort}/dashboard`);
    const cluster = '[data-cluster="c"]';
    for (const { id } of backends) await page.locator(`${cluster} tr[data-node="${id}"]`).waitFor({ timeout: 10_000 });
    expect(await cellText(page, `${cluster} tr[data-node="n0"] td:nth-child(7)`)).toBe('zone-a');
    expect(await cellText(page, `${cluster} tr[data-node="n2"] td:nth-child(7)`)).toBe(MARKUP_ZONE);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate("'pwned' in window")).toBe(false);
    expect(await page.locator('#routing-mode').innerText()).toBe('adaptive');
    expect(await page.locator('#selection').innerText()).toBe('ring');

    // Shares of the ring add up to the whole.
    const shares = await page.locator(`${cluster} table.ring tbody td:nth-child(2)`).allInnerTexts();
    expect(shares).toHaveLength(3);
    expect(shares.reduce((sum, text) => sum + Number.parseFloat(text), 0)).toBeCloseTo(100, 0);

    // The hot tenant: spread over k ≥ 2 nodes after 3 hot windows, with that many candidates.
    const hotRow = `${cluster} tr[data-tenant="${HOT}"]`;
    await page.locator(`${hotRow}.hot td:nth-child(3)`, { hasText: /^[2-5]$/ }).waitFor({ timeout: 15_000 });
    // Each check reads the whole row at once: the page refreshes it every window, and k (which moves
    // with hysteresis) can stay at 2-5 for a window whose score has dipped under the hot score.
    const hotCells = async (): Promise<string[]> => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const read = await page.locator(`${hotRow} td`).allInnerTexts();
        const shown = /^[2-5]$/.test(read[2] ?? '') && Number(read[1]) >= 100;
        if (shown || Date.now() > deadline) return read;
        await page.waitForTimeout(50);
      }
    };
    const cells = await hotCells();
    const k = Number(cells[2]);
    expect(k).toBeGreaterThanOrEqual(2);
    expect(Number(cells[1])).toBeGreaterThanOrEqual(100);
    const candidates = cells[4]!.split(', ');
    // k may pass the cluster's node count (the shard factor is the tenant's); candidates are distinct nodes.
    expect(new Set(candidates).size).toBe(Math.min(k, backends.length));
    for (const candidate of candidates) expect(backends.map((b) => b.id)).toContain(candidate);
    await page.locator('#events li', { hasText: new RegExp(`tenant ${HOT}: k 1 → [2-5]`) }).waitFor({ timeout: 5_000 });
    expect(await cellText(page, '[data-cluster="constructor"] [data-field="tenant-note"]')).toBe('Not keyed by tenant: its routes hash on a header, a cookie or the path.');

    // Live: the cluster's request counter grows between reads, and its rate is a number.
    const requests = () => cellText(page, `${cluster} [data-field="requests"]`).then(Number);
    const before = await requests();
    const deadline = Date.now() + 5_000;
    while ((await requests()) <= before && Date.now() < deadline) await page.waitForTimeout(100);
    expect(await requests()).toBeGreaterThan(before);
    expect(Number(await cellText(page, `${cluster} [data-field="request-rate"]`))).toBeGreaterThan(0);

    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: `${OUTPUT}dashboard.png`, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('beyond loopback serves the page without a token, asks for it, keeps it for the tab and reads with it', async () => {
    const config = await startCluster(['zone-a']);
    gateway = await startGateway(config, { GATEWAY_ADMIN_HOST: '0.0.0.0', GATEWAY_ADMIN_TOKEN: TOKEN, GATEWAY_THREADS: '1' });
    const { adminPort } = gateway;
    expect((await fetch(`http://127.0.0.1:${adminPort}/v1/dashboard`)).status).toBe(401);

    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${adminPort}/dashboard`);
    await page.locator('#login').waitFor({ state: 'visible', timeout: 5_000 });
    await page.fill('#token', 'wrong-token-0123456789');
    await page.press('#token', 'Enter');
    await page.locator('#login-reason', { hasText: 'refused' }).waitFor({ timeout: 5_000 });

    await page.fill('#token', TOKEN);
    await page.press('#token', 'Enter');
    await page.locator('[data-cluster="c"] tr[data-node="n0"]').waitFor({ timeout: 5_000 });
    expect(await page.locator('#login').isHidden()).toBe(true);
    // Kept for the tab: a reload reads at once.
    await page.reload();
    await page.locator('[data-cluster="c"] tr[data-node="n0"]').waitFor({ timeout: 5_000 });
    expect(await page.locator('#login').isHidden()).toBe(true);
    await page.close();
  }, 60_000);
});
