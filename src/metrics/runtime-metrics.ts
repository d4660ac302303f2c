import { collectDefaultMetrics, Registry } from 'prom-client';
import type { MetricsSnapshot } from '../thread-protocol.js';

/**
 * Node.js's own metrics (prom-client's default set). The coordinator exports them as they are:
 * process_* (CPU, resident memory, open files) are the whole process's, and nodejs_* its main
 * thread's. Each acceptor thread exports only what is its own, V8 heap, event-loop lag, GC and
 * handles, labelled by thread: its process_* would repeat the coordinator's, and a scrape sums
 * same-labelled series.
 */
export function registerProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
}

/** A thread's own runtime metrics, read at each scrape. */
export class ThreadRuntimeMetrics {
  readonly #registry = new Registry();

  constructor(threadIndex: number) {
    collectDefaultMetrics({ register: this.#registry, labels: { thread: String(threadIndex) } });
  }

  async snapshot(): Promise<MetricsSnapshot> {
    const families = (await this.#registry.getMetricsAsJSON()) as unknown as MetricsSnapshot;
    return families.filter((family) => family.name.startsWith('nodejs_') && family.name !== 'nodejs_version_info');
  }
}
