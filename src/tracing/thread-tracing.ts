import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
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
import type { Logger } from '../log.js';
import { RequestTracing } from './request-tracing.js';

/**
 * The spans still queued when a thread drains get this long to leave: the coordinator gives a
 * drained thread 5 s to exit, and a collector that does not answer must not hold it past that.
 */
const FLUSH_MS = 2_000;

/**
 * A thread's own tracer provider, batch processor and OTLP/HTTP exporter: each acceptor thread
 * does the whole request, so spans start and end where they are exported from, with no message to
 * another thread. The batch processor queues ended spans and exports them on a timer, off the
 * request path; a full queue drops spans rather than waits. Loaded with import() only when tracing
 * is on, so that a gateway without it never loads the SDK.
 */
export function startThreadTracing(settings: TracingSettings, log: Logger): RequestTracing {
  // Export failures reach the SDK's diag logger: a collector out of reach is logged, not silent.
  diag.setLogger(diagLogger(log), DiagLogLevel.WARN);
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

function diagLogger(log: Logger): DiagLogger {
  const at = (level: 'error' | 'warn' | 'info' | 'debug' | 'trace') => (message: string, ...args: unknown[]) =>
    log[level]({ otel: args.length > 0 ? args.map(String) : undefined }, `opentelemetry: ${message}`);
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), verbose: at('trace') };
}
