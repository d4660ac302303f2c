// @ts-check
// The ringgate dashboard: polls GET /v1/dashboard once a second and draws it with plain DOM calls.
// Every value from the JSON goes in as text (textContent, attributes of SVG bars): tenant ids come
// from clients, node ids and cluster names from the config, none of them is ever parsed as markup.

/**
 * @typedef {{ node: string, zone: string, health: number, reason: string, weight: number, points: number, share: number,
 *   inFlight: number, maxInFlight: number | null, requests: number, errors: number,
 *   breaker: { state: string, score: number, p99Ms: number | null } | null }} RingNode
 * @typedef {{ name: string, panic: boolean, zoneFallback: boolean, points: number, inFlight: number,
 *   requests: number, errors: number, nodes: RingNode[] }} Cluster
 * @typedef {{ tenant: string, score: number | null, k: number, windowRequests: number, candidates: Record<string, string[]> }} Tenant
 * @typedef {{ kind: 'shard', at: number, tenant: string, from: number, to: number }
 *   | { kind: 'ring', at: number, cluster: string, moved: number, moves: { node: string, from: number, to: number }[] }} RebalanceEvent
 * @typedef {{ at: number, routing: { mode: string, selection: string }, hotScore: number, windowMs: number, window: number,
 *   clusters: Cluster[], tenants: Tenant[],
 *   rebalances: { shardChanges: number, ringRebuilds: number, recent: RebalanceEvent[] } }} Dashboard
 */

const POLL_MS = 1000;
const TOKEN_KEY = 'ringgate.adminToken';
const SVG = 'http://www.w3.org/2000/svg';

/** @param {string} id */
const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/**
 * A new element with its text (never markup) and an optional class.
 * @param {string} tag @param {string | number} [text] @param {string} [className]
 */
function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

/** @param {Element} root @param {string} field */
const field = (root, field) => /** @type {HTMLElement} */ (root.querySelector(`[data-field="${field}"]`));

/** @param {number} value @param {number} digits */
const fixed = (value, digits) => value.toFixed(digits);

/** Per second between two running totals; null without an earlier read or after a counter wrapped. */
function rate(/** @type {number} */ now, /** @type {number | undefined} */ before, /** @type {number} */ seconds) {
  return before === undefined || now < before || seconds <= 0 ? null : (now - before) / seconds;
}

const showRate = (/** @type {number | null} */ value) => (value === null ? '–' : fixed(value, 1));

/** A node's share of ring points as an inline SVG bar. @param {number} share */
function shareBar(share) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'bar');
  svg.setAttribute('width', '100');
  svg.setAttribute('height', '10');
  for (const [cls, width] of /** @type {const} */ ([['track', 100], ['fill', Math.round(share * 100)]])) {
    const rect = document.createElementNS(SVG, 'rect');
    rect.setAttribute('class', cls);
    rect.setAttribute('width', String(width));
    rect.setAttribute('height', '10');
    svg.append(rect);
  }
  return svg;
}

/** @param {RingNode} node @param {{ requests: number, errors: number } | undefined} before @param {number} seconds */
function nodeRow(node, before, seconds) {
  const row = el('tr');
  row.dataset.node = node.node;
  const share = el('td');
  share.append(shareBar(node.share), `${fixed(node.share * 100, 1)}%`);
  const breaker = node.breaker === null ? el('td', 'none', 'muted') : el('td', node.breaker.state, node.breaker.state === 'closed' ? '' : 'bad');
  if (node.breaker !== null) breaker.title = `score ${fixed(node.breaker.score, 2)}, p99 ${node.breaker.p99Ms ?? '–'} ms`;
  row.append(
    el('td', node.node),
    share,
    el('td', node.points, 'num'),
    el('td', fixed(node.health, 2), node.health < 0.3 ? 'num bad' : 'num'),
    el('td', node.reason, node.reason === 'healthy' ? 'muted' : 'bad'),
    el('td', fixed(node.weight, 2), 'num'),
    el('td', node.zone || '–'),
    el('td', node.maxInFlight === null ? node.inFlight : `${node.inFlight} / ${node.maxInFlight}`, 'num'),
    el('td', showRate(rate(node.requests, before?.requests, seconds)), 'num'),
    el('td', showRate(rate(node.errors, before?.errors, seconds)), 'num'),
    breaker,
  );
  return row;
}

/** @param {Tenant} tenant @param {string[]} candidates @param {number} hotScore */
function tenantRow(tenant, candidates, hotScore) {
  const row = el('tr');
  row.dataset.tenant = tenant.tenant;
  if (tenant.k > 1 || (tenant.score ?? 0) >= hotScore) row.className = 'hot';
  row.append(
    el('td', tenant.tenant),
    el('td', tenant.score === null ? '–' : fixed(tenant.score, 1), 'num'),
    el('td', tenant.k, 'num'),
    el('td', tenant.windowRequests, 'num'),
    el('td', candidates.join(', ')),
  );
  return row;
}

/** Sections by cluster name, kept across reads so the page does not jump. @type {Map<string, HTMLElement>} */
const sections = new Map();
/** Totals of the previous read, for rates. @type {{ at: number, totals: Map<string, { requests: number, errors: number }> } | null} */
let previous = null;

/** @param {Dashboard} data */
function render(data) {
  const seconds = previous === null ? 0 : (data.at - previous.at) / 1000;
  const before = previous?.totals ?? new Map();
  /** @type {Map<string, { requests: number, errors: number }>} */
  const totals = new Map();
  byId('routing-mode').textContent = data.routing.mode;
  const selection = byId('selection');
  selection.textContent = data.routing.selection === 'ring' ? 'ring' : 'least-connections (control plane stale)';
  selection.className = data.routing.selection === 'ring' ? '' : 'bad';
  const template = /** @type {HTMLTemplateElement} */ (byId('cluster-template'));
  const main = byId('clusters');
  for (const [name, section] of sections) {
    if (data.clusters.some((cluster) => cluster.name === name)) continue;
    section.remove();
    sections.delete(name);
  }
  for (const cluster of data.clusters) {
    let section = sections.get(cluster.name);
    if (section === undefined) {
      section = /** @type {HTMLElement} */ (/** @type {Element} */ (template.content.firstElementChild).cloneNode(true));
      section.dataset.cluster = cluster.name;
      field(section, 'name').textContent = cluster.name;
      sections.set(cluster.name, section);
    }
    main.append(section);
    totals.set(cluster.name, { requests: cluster.requests, errors: cluster.errors });
    const was = before.get(cluster.name);
    field(section, 'panic').hidden = !cluster.panic;
    field(section, 'zone-fallback').hidden = !cluster.zoneFallback;
    field(section, 'request-rate').textContent = showRate(rate(cluster.requests, was?.requests, seconds));
    field(section, 'error-rate').textContent = showRate(rate(cluster.errors, was?.errors, seconds));
    field(section, 'in-flight').textContent = String(cluster.inFlight);
    field(section, 'requests').textContent = String(cluster.requests);
    field(section, 'errors').textContent = String(cluster.errors);
    field(section, 'points').textContent = String(cluster.points);
    /** @type {HTMLElement} */ (section.querySelector('table.ring tbody')).replaceChildren(
      ...cluster.nodes.map((node) => {
        const key = `${cluster.name}\n${node.node}`;
        totals.set(key, { requests: node.requests, errors: node.errors });
        return nodeRow(node, before.get(key), seconds);
      }),
    );
    // Own keys only: a cluster may be named "constructor" or "toString".
    const keyed = data.tenants.filter((tenant) => Object.hasOwn(tenant.candidates, cluster.name));
    field(section, 'tenant-note').textContent =
      data.tenants.length > 0 && keyed.length === 0
        ? 'Not keyed by tenant: its routes hash on a header, a cookie or the path.'
        : `Highest load scores (hot: score ≥ ${data.hotScore}, or spread over k > 1 nodes); windows of ${data.windowMs} ms.`;
    /** @type {HTMLElement} */ (section.querySelector('table.tenants tbody')).replaceChildren(
      ...keyed.map((tenant) => tenantRow(tenant, tenant.candidates[cluster.name] ?? [], data.hotScore)),
    );
  }
  renderEvents(data.rebalances);
  previous = { at: data.at, totals };
  const status = byId('status');
  status.className = '';
  status.textContent = `updated ${new Date(data.at).toLocaleTimeString()} · scoring window ${data.window}`;
}

/** @param {Dashboard['rebalances']} rebalances */
function renderEvents(rebalances) {
  byId('shard-changes').textContent = String(rebalances.shardChanges);
  byId('ring-rebuilds').textContent = String(rebalances.ringRebuilds);
  byId('events').replaceChildren(
    ...rebalances.recent.map((event) => {
      const what =
        event.kind === 'shard'
          ? `tenant ${event.tenant}: k ${event.from} → ${event.to}`
          : `ring of ${event.cluster} republished: ${event.moves.map((move) => `${move.node} ${move.from} → ${move.to} points`).join(', ')}${
              event.moved > event.moves.length ? ` and ${event.moved - event.moves.length} more` : ''
            }`;
      return el('li', `${new Date(event.at).toLocaleTimeString()} ${what}`);
    }),
  );
}

/** @param {string} text */
function showError(text) {
  const status = byId('status');
  status.className = 'error';
  status.textContent = text;
}

/** Beyond loopback the reads want the admin token: asked for once, kept for this tab only. @param {string} reason */
function askForToken(reason) {
  byId('login-reason').textContent = reason;
  byId('login').hidden = false;
  /** @type {HTMLInputElement} */ (byId('token')).focus();
}

/** A read is running, or the next one is due (its timer), or the page waits for a token: never two loops. */
let reading = false;
/** @type {ReturnType<typeof setTimeout> | null} */
let timer = null;
let waiting = false;

async function poll() {
  reading = true;
  const token = sessionStorage.getItem(TOKEN_KEY);
  try {
    const res = await fetch('/v1/dashboard', { cache: 'no-store', headers: token === null ? {} : { authorization: `Bearer ${token}` } });
    if (res.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      askForToken(token === null ? 'This admin server wants its token (GATEWAY_ADMIN_TOKEN) for reads.' : 'That token was refused.');
      showError('waiting for the admin token');
      waiting = true;
    } else if (!res.ok) {
      throw new Error(`${res.status}: ${(await res.json().catch(() => ({}))).error ?? res.statusText}`);
    } else {
      render(/** @type {Dashboard} */ (await res.json()));
    }
  } catch (err) {
    showError(`no update: ${err instanceof Error ? err.message : String(err)}`);
  }
  reading = false;
  // The next read a second after this one ended (a slow answer never stacks reads); none while hidden.
  if (!waiting && !document.hidden) timer = setTimeout(() => ((timer = null), void poll()), POLL_MS);
}

const idle = () => !reading && timer === null && !waiting;

document.addEventListener('visibilitychange', () => {
  if (!document.hidden && idle()) void poll();
});
byId('login').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, /** @type {HTMLInputElement} */ (byId('token')).value);
  byId('login').hidden = true;
  waiting = false;
  if (idle()) void poll();
});
void poll();
