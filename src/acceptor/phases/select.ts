import type { Settings } from '../../config/schema.js';
import type { AnsweredCode } from '../../errors.js';
import { loadBound } from '../../routing/bounded-load.js';
import type { Hash32 } from '../../routing/ring.js';
import { HashKind } from '../../routing/route-table.js';
import { routingKey } from '../../routing/routing-key.js';
import { clusterInFlight, routingMode, RoutingMode, startNodeRequest, type NodeTable } from '../../shm/node-table.js';
import { readRing } from '../../shm/ring-buffer.js';
import { shardFactor, type TenantTable } from '../../shm/tenant-table.js';
import type { RequestContext } from '../request-context.js';

/**
 * The select phase: the request's ring key, its tenant's shard factor and its cluster's load bound
 * → a node (DESIGN "Selection"); the node counts the request as in flight from here on, on this
 * thread's lane. Adaptive routing (issue 4): a tenant-keyed request goes to the least loaded of the
 * first k distinct nodes clockwise from the tenant's point, and no request goes to a node that
 * would then hold more than GATEWAY_BALANCE_FACTOR × its cluster's mean in-flight requests.
 */
export class Selection {
  readonly #hash32: Hash32;
  readonly #tenants: TenantTable;
  readonly #nodes: NodeTable;
  readonly #lane: number;
  readonly #balanceFactor: number;

  constructor(settings: Readonly<Settings>, hash32: Hash32, tenants: TenantTable, nodes: NodeTable, lane: number) {
    this.#hash32 = hash32;
    this.#tenants = tenants;
    this.#nodes = nodes;
    this.#lane = lane;
    this.#balanceFactor = settings.balanceFactor;
  }

  run(ctx: RequestContext): AnsweredCode | null {
    const plan = ctx.plan!;
    const { route, selector } = plan;
    const keyHash = this.#hash32(routingKey(route.hashKind, ctx.tenant, ctx.path, ctx.hashHeaderValue));
    const bounded = selector.bounded;
    if (bounded !== null) {
      const keyedByTenant = route.hashKind === HashKind.Tenant && ctx.tenantSlot >= 0;
      selector.k = keyedByTenant ? shardFactor(this.#tenants, ctx.tenantSlot) : 1;
      bounded.bound = loadBound(clusterInFlight(this.#nodes, plan.cluster), selector.nodes, this.#balanceFactor);
    }
    selector.saturation?.begin();
    // While the control plane is stale, tenant affinity is suspended: least connections instead.
    const owner = routingMode(this.#nodes) === RoutingMode.LeastConnections ? selector.leastConnections() : readRing(plan.ring, keyHash, selector);
    if (owner < 0) return selector.saturation?.sawSaturated === true ? 'ERR_UPSTREAM_SATURATED' : 'ERR_RING_EMPTY';
    ctx.member = owner;
    ctx.node = plan.members[owner]!;
    ctx.cluster = plan.cluster;
    startNodeRequest(this.#nodes, this.#lane, ctx.node, ctx.cluster);
    ctx.nodeHeld = true;
    return null;
  }
}
