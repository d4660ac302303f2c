import { performance } from 'node:perf_hooks';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { setGlobalErrorHandler } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { version } from '../cli.js';
import type { TracingSettings } from '../config/tracing-schema.js';
import { LogThrottle, type Logger } from '../log.js';
import { RequestTracing } from './request-tracing.js';

/**
 * The spans still queued when a thread drains get this long to leave: the coordinator gives a
 * drained thread 5 s to exit, and a collector that does not answer must not hold it past that.
 */
const FLUSH_MS = 2_000;
/**
 * At most one SDK complaint per thread this often: with a collector out of reach, every batch
 * fails (at full sampling and load, dozens a second), and the log must not drown in them.
 */
const DIAG_EVERY_MS = 10_000;

/**
 * A thread's own tracer provider, batch processor and OTLP/HTTP exporter: each acceptor thread
 * does the whole request, so spans start and end where they are exported from, with no message to
 * another thread. The batch processor queues ended spans and exports them on a timer, off the
 * request path; a full queue drops spans rather than waits. Loaded with import() only when tracing
 * is on, so that a gateway without it never loads the SDK.
 */
export function startThreadTracing(settings: TracingSettings, log: Logger): RequestTracing {
  // A collector out of reach is logged, not silent (export failures go to the global error handler).
  const complain = throttled(log);
  setGlobalErrorHandler((err) => complain('error', { err }, 'spans not exported'));
  const diagAt = (level: 'error' | 'warn') => (message: string, ...args: unknown[]) => complain(level, { otel: args.map(String) }, message);
  const never = (): void => {};
  // At WARN the SDK calls only these two.
  diag.setLogger({ error: diagAt('error'), warn: diagAt('warn'), info: never, debug: never, verbose: never }, DiagLogLevel.WARN);
  const exporter = new OTLPTraceExporter({ url: settings.tracesUrl });
  const processor = new BatchSpanProcessor(exporter, {
    scheduledDelayMillis: settings.scheduleDelayMs,
    exportTimeoutMillis: settings.exportTimeoutMs,
    maxQueueSize: settings.maxQueueSize,
    maxExportBatchSize: settings.maxExportBatchSize,
  });
  const provider = new BasicTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName, [ATTR_SERVICE_VERSION]: version() })),
    sampler: samplerOf(settings),
    spanProcessors: [processor],
  });
  return new RequestTracing(provider.getTracer('ringgate', version()), async () => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, FLUSH_MS);
    });
    await Promise.race([provider.shutdown().catch((err: Error) => log.warn({ err }, 'spans not exported at exit')), late]);
    clearTimeout(timer);
  });
}

/** OTEL_TRACES_SAMPLER and its ratio as the SDK's samplers (the spec's names and defaults). */
export function samplerOf({ sampler, ratio }: Pick<TracingSettings, 'sampler' | 'ratio'>): Sampler {
  switch (sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}

/** The SDK's complaints as log lines, one per DIAG_EVERY_MS, each saying how many were left out before it. */
function throttled(log: Logger): (level: 'error' | 'warn', fields: Record<string, unknown>, message: string) => void {
  const throttle = new LogThrottle(DIAG_EVERY_MS);
  return (level, fields, message) => {
    const complaints = throttle.count(performance.now());
    // `suppressed`: those left out before this one.
    if (complaints !== null) log[level]({ ...fields, suppressed: complaints - 1 }, `opentelemetry: ${message}`);
  };
}
