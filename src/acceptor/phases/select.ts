import type { Settings } from '../../config/schema.js';
import type { AnsweredCode } from '../../errors.js';
import { loadBound } from '../../routing/bounded-load.js';
import type { Hash32 } from '../../routing/ring.js';
import { HashKind } from '../../routing/route-table.js';
import { routingKey } from '../../routing/routing-key.js';
import { clusterInFlight, routingMode, RoutingMode, servingNodes, startNodeRequest, type NodeTable } from '../../shm/node-table.js';
import { readRing } from '../../shm/ring-buffer.js';
import { shardFactor, type TenantTable } from '../../shm/tenant-table.js';
import type { RequestContext } from '../request-context.js';
import { RoutingReason, walkReason } from '../../routing/routing-reason.js';

/**
 * The select phase: the request's ring key, its tenant's shard factor and its cluster's load bound
 * → a node (DESIGN "Selection"); the node counts the request as in flight from here on, on this
 * thread's lane. Adaptive routing (issue 4): a tenant-keyed request goes to the least loaded of the
 * first k distinct nodes clockwise from the tenant's point, and no request goes to a node that
 * would then hold more than GATEWAY_BALANCE_FACTOR × its cluster's mean in-flight requests. A retry
 * walks the same way, passing by the nodes its request tried already.
 */
export class Selection {
  readonly #hash32: Hash32;
  readonly #tenants: TenantTable;
  readonly #nodes: NodeTable;
  readonly #lane: number;
  readonly #balanceFactor: number;
  /** The last pick ignored the ring (a stale control plane). */
  #leastConnections = false;

  constructor(settings: Readonly<Settings>, hash32: Hash32, tenants: TenantTable, nodes: NodeTable, lane: number) {
    this.#hash32 = hash32;
    this.#tenants = tenants;
    this.#nodes = nodes;
    this.#lane = lane;
    this.#balanceFactor = settings.balanceFactor;
  }

  run(ctx: RequestContext): AnsweredCode | null {
    const selector = ctx.plan!.selector;
    selector.begin();
    const member = this.#pick(ctx);
    if (member < 0) {
      if (selector.saturation?.sawSaturated === true) return 'ERR_UPSTREAM_SATURATED';
      return selector.circuits?.sawOpen === true ? 'ERR_CIRCUIT_OPEN' : 'ERR_RING_EMPTY';
    }
    this.hold(ctx, member);
    ctx.routing = this.#reason(ctx);
    return null;
  }

  /** Why `ctx` went to its node: the walk's outcome, or a fallback that overrides it. */
  #reason(ctx: RequestContext): RoutingReason {
    const plan = ctx.plan!;
    if (plan.zoneAffine && plan.crossZone![ctx.member]! >= 0) return RoutingReason.ZoneFallback;
    if (this.#leastConnections) return RoutingReason.LeastConnFallback;
    return walkReason(plan.selector.walkOutcome, plan.selector.k);
  }

  /** The node a retry of `ctx` would go to: never one it tried; -1 when there is none. Holds nothing yet. */
  pickRetry(ctx: RequestContext, failed: number): number {
    const selector = ctx.plan!.selector;
    selector.begin();
    const tried = (ctx.tried ??= []);
    tried.push(failed);
    for (const member of tried) selector.avoided.avoid(member);
    return this.#pick(ctx);
  }

  /** `member` of the request's cluster (the last walk's pick) takes the request: in flight on it from now on. */
  hold(ctx: RequestContext, member: number): void {
    const plan = ctx.plan!;
    const circuits = plan.selector.circuits;
    ctx.probe = circuits?.tookProbe === true;
    if (circuits !== null && ctx.probe) {
      ctx.breakerPeriod = circuits.probePeriod;
      ctx.probeRefill = circuits.probeRefill;
    } else if (circuits !== null) ctx.breakerPeriod = circuits.periodOf(member);
    ctx.member = member;
    ctx.node = plan.members[member]!;
    ctx.cluster = plan.cluster;
    startNodeRequest(this.#nodes, this.#lane, ctx.node, ctx.cluster);
    ctx.nodeHeld = true;
  }

  #pick(ctx: RequestContext): number {
    const plan = ctx.plan!;
    const { route, selector } = plan;
    const keyHash = this.#hash32(routingKey(route.hashKind, ctx.tenant, ctx.path, ctx.hashHeaderValue));
    const bounded = selector.bounded;
    if (bounded !== null) {
      const keyedByTenant = route.hashKind === HashKind.Tenant && ctx.tenantSlot >= 0;
      selector.k = keyedByTenant ? shardFactor(this.#tenants, ctx.tenantSlot, ctx.tenantKeyLo, ctx.tenantKeyHi) : 1;
      bounded.bound = loadBound(clusterInFlight(this.#nodes, plan.cluster), servingNodes(this.#nodes, plan.cluster), this.#balanceFactor);
    }
    // While the control plane is stale, tenant affinity is suspended: least connections instead.
    const leastConnections = routingMode(this.#nodes) === RoutingMode.LeastConnections;
    this.#leastConnections = leastConnections;
    let member = leastConnections ? selector.leastConnections() : readRing(plan.ring, keyHash, selector);
    const circuits = selector.circuits;
    // A half-open node takes a request only with a probe token; without one, the walk goes on.
    while (member >= 0 && circuits !== null && !circuits.admit(member)) {
      selector.avoided.avoid(member);
      member = leastConnections ? selector.leastConnections() : readRing(plan.ring, keyHash, selector);
    }
    return member;
  }
}
