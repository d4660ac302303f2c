import { collectDefaultMetrics, Registry } from 'prom-client';
import type { MetricsSnapshot } from '../thread-protocol.js';

/**
 * How often each thread samples its event-loop lag. prom-client's 10 ms is a timer waking every
 * thread 100 times a second: an idle 1-thread gateway spent 2.95% of a core, 1.55% at 100 ms. Ten
 * samples a second still give a 15 s scrape 150 per thread.
 */
const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * Node.js's own metrics (prom-client's default set). The coordinator exports them as they are:
 * process_* (CPU, resident memory, open files) are the whole process's, and nodejs_* its main
 * thread's. Each acceptor thread exports only what is its own, V8 heap, event-loop lag, GC and
 * handles, labelled by thread: its process_* would repeat the coordinator's, and a scrape sums
 * same-labelled series.
 */
export function registerProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
}

/** A thread's own runtime metrics, read at each scrape. */
export class ThreadRuntimeMetrics {
  readonly #registry = new Registry();

  constructor(threadIndex: number) {
    collectDefaultMetrics({ register: this.#registry, labels: { thread: String(threadIndex) }, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  }

  async snapshot(): Promise<MetricsSnapshot> {
    const families = (await this.#registry.getMetricsAsJSON()) as unknown as MetricsSnapshot;
    return families.filter((family) => family.name.startsWith('nodejs_') && family.name !== 'nodejs_version_info');
  }
}
