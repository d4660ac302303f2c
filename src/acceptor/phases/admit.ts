import type { HttpRequest } from 'uWebSockets.js';
import type { Settings } from '../../config/schema.js';
import type { AnsweredCode } from '../../errors.js';
import type { TenantKeyer } from '../../hash.js';
import { isValidHost } from '../../routing/host.js';
import { normalizePath, routingPath } from '../../routing/request-path.js';
import { matchRoute, type RouteTable } from '../../routing/route-table.js';
import { isValidTenantId } from '../../routing/tenant-id.js';
import { findOrClaim, recordUntracked, type TenantTable } from '../../shm/tenant-table.js';
import type { RequestContext } from '../request-context.js';
import { readRequestHead } from '../request-head.js';
import { settleRequestId } from '../request-id.js';
import type { RoutePlan } from '../route-plans.js';
import type { TrustCheck } from '../forwarded-headers.js';

const MAX_REMEMBERED_HOSTS = 256;

/**
 * The admit phase: copy and check the head, normalize the path, match the route, check the host,
 * the tenant and the declared body size, then claim the tenant's slot in the shared table. Its
 * checks run in the order of what a backend must never see: framing first, then the authority,
 * the path, the route and the tenant.
 */
export class Admission {
  readonly #settings: Readonly<Settings>;
  readonly #routes: RouteTable;
  readonly #plans: readonly RoutePlan[];
  readonly #tenants: TenantTable;
  readonly #keyer: TenantKeyer;
  /** Hosts this thread found valid: clients send the same few again and again. */
  readonly #validHosts = new Set<string>();
  /** GATEWAY_TRUSTED_PROXIES: whose X-Real-IP and the like are kept; null: nobody's. */
  readonly #trusts: TrustCheck | null;

  constructor(settings: Readonly<Settings>, routes: RouteTable, plans: readonly RoutePlan[], tenants: TenantTable, keyer: TenantKeyer, trusts: TrustCheck | null) {
    this.#settings = settings;
    this.#trusts = trusts;
    this.#routes = routes;
    this.#plans = plans;
    this.#tenants = tenants;
    this.#keyer = keyer;
  }

  /** `rawPath`: the request's path as uWS read it (its getUrl()). */
  run(ctx: RequestContext, req: HttpRequest, rawPath: string): AnsweredCode | null {
    const settings = this.#settings;
    const path = normalizePath(rawPath);
    const route = path === null ? undefined : matchRoute(this.#routes, routingPath(path));
    if (route !== undefined) {
      ctx.plan = this.#plans[route.index]!;
      ctx.routeIndex = ctx.plan.metricSlot;
    }
    const headError = readRequestHead(ctx, req, rawPath, path ?? rawPath, settings.tenantHeader, route?.hashHeader ?? '', settings.maxHeaderBytes, route?.forwardHeaders ?? null, this.#trusts);
    settleRequestId(ctx);
    if (headError !== null) return headError;
    if (!this.#validHosts.has(ctx.host)) {
      if (!isValidHost(ctx.host)) return 'ERR_BAD_HOST';
      // Bounded: a client making up hosts empties the set rather than grows it.
      if (this.#validHosts.size === MAX_REMEMBERED_HOSTS) this.#validHosts.clear();
      this.#validHosts.add(ctx.host);
    }
    if (path === null) return 'ERR_BAD_PATH';
    if (route === undefined) return 'ERR_NO_ROUTE';
    if (ctx.tenant === '') {
      if (route.requireTenant) return 'ERR_MISSING_TENANT';
    } else if (!isValidTenantId(ctx.tenant)) {
      return 'ERR_INVALID_TENANT';
    }
    if (ctx.contentLength > settings.maxBodyBytes) return 'ERR_BODY_TOO_LARGE';
    if (ctx.tenant !== '') this.#claimTenant(ctx);
    return null;
  }

  /** The tenant's slot in the shared table (claimed on first sight), or -1 when its bucket is full, and its key. */
  #claimTenant(ctx: RequestContext): void {
    const keyer = this.#keyer;
    keyer.hash(ctx.tenant);
    ctx.tenantSlot = findOrClaim(this.#tenants, keyer.lo, keyer.hi, ctx.tenant);
    ctx.tenantKeyLo = keyer.lo;
    ctx.tenantKeyHi = keyer.hi;
    if (ctx.tenantSlot < 0) recordUntracked(this.#tenants);
  }
}
