import { z } from 'zod';

/** The samplers OTEL_TRACES_SAMPLER may name (the spec's, but for the Jaeger and X-Ray remote ones). */
export const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/**
 * Tracing as the acceptor threads run it (GatewayConfig.tracing; null when off). Plain data: it
 * crosses to the threads, where the SDK is given every value here and reads none of these vars itself.
 */
export interface TracingSettings {
  /** Where spans are POSTed (OTLP/HTTP). */
  readonly tracesUrl: string;
  readonly serviceName: string;
  readonly sampler: SamplerName;
  /** The share of new traces a traceidratio sampler keeps (OTEL_TRACES_SAMPLER_ARG). */
  readonly ratio: number;
  readonly scheduleDelayMs: number;
  readonly exportTimeoutMs: number;
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
}

/** Defaults as the OpenTelemetry spec gives them (but the service name). */
export const TRACING_DEFAULTS = {
  OTEL_SDK_DISABLED: 'false',
  OTEL_SERVICE_NAME: 'ringgate',
  OTEL_TRACES_SAMPLER: 'parentbased_always_on',
  OTEL_TRACES_SAMPLER_ARG: '1',
  OTEL_BSP_SCHEDULE_DELAY: '5000',
  OTEL_BSP_EXPORT_TIMEOUT: '30000',
  OTEL_BSP_MAX_QUEUE_SIZE: '2048',
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '512',
} as const;

/** The OTEL_* vars the config reads, in the README's order (its OpenTelemetry table mirrors them). */
export const OTEL_ENV_NAMES = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_SDK_DISABLED',
  'OTEL_SERVICE_NAME',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
  'OTEL_BSP_SCHEDULE_DELAY',
  'OTEL_BSP_EXPORT_TIMEOUT',
  'OTEL_BSP_MAX_QUEUE_SIZE',
  'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
] as const;

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });
const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const tracingEnvSchema = z
  .object({
    OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl.optional(),
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: httpUrl.optional(),
    OTEL_SERVICE_NAME: z.string().min(1).max(256).default(TRACING_DEFAULTS.OTEL_SERVICE_NAME),
    OTEL_TRACES_SAMPLER: z
      .string()
      .trim()
      .toLowerCase()
      .pipe(z.enum(SAMPLERS, { error: `must be one of ${SAMPLERS.join(', ')}` }))
      .default(TRACING_DEFAULTS.OTEL_TRACES_SAMPLER),
    OTEL_TRACES_SAMPLER_ARG: z.string().default(TRACING_DEFAULTS.OTEL_TRACES_SAMPLER_ARG),
    OTEL_BSP_SCHEDULE_DELAY: wholeNumber(0, 3_600_000).default(Number(TRACING_DEFAULTS.OTEL_BSP_SCHEDULE_DELAY)),
    OTEL_BSP_EXPORT_TIMEOUT: wholeNumber(1, 600_000).default(Number(TRACING_DEFAULTS.OTEL_BSP_EXPORT_TIMEOUT)),
    OTEL_BSP_MAX_QUEUE_SIZE: wholeNumber(1, 1_000_000).default(Number(TRACING_DEFAULTS.OTEL_BSP_MAX_QUEUE_SIZE)),
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: wholeNumber(1, 1_000_000).default(Number(TRACING_DEFAULTS.OTEL_BSP_MAX_EXPORT_BATCH_SIZE)),
  })
  .superRefine((env, ctx) => {
    if (env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE > env.OTEL_BSP_MAX_QUEUE_SIZE) {
      ctx.addIssue({ code: 'custom', path: ['OTEL_BSP_MAX_EXPORT_BATCH_SIZE'], message: `must not exceed OTEL_BSP_MAX_QUEUE_SIZE (${env.OTEL_BSP_MAX_QUEUE_SIZE})` });
    }
    if (env.OTEL_TRACES_SAMPLER.endsWith('traceidratio') && ratioOf(env.OTEL_TRACES_SAMPLER_ARG) === null) {
      ctx.addIssue({ code: 'custom', path: ['OTEL_TRACES_SAMPLER_ARG'], message: `must be a number from 0 to 1 (the share of traces ${env.OTEL_TRACES_SAMPLER} keeps)` });
    }
  });

/**
 * The tracing settings of `env`, or null when tracing is off: no OTLP endpoint, or OTEL_SDK_DISABLED
 * true. The other vars are read (and checked) only when it is on: an environment shared with other
 * services may set them for samplers this gateway does not know. Errors name the var and its value.
 */
export function readTracingEnv(env: NodeJS.ProcessEnv): { tracing: TracingSettings | null; errors: string[] } {
  // As for every setting, an empty var counts as unset.
  const raw = Object.fromEntries(OTEL_ENV_NAMES.map((name) => [name, env[name] === '' ? undefined : env[name]]));
  const disabled = raw.OTEL_SDK_DISABLED;
  if (disabled !== undefined && !/^(true|false)$/i.test(disabled.trim())) {
    return { tracing: null, errors: [`OTEL_SDK_DISABLED = ${JSON.stringify(disabled)}: expected true or false`] };
  }
  if (disabled?.trim().toLowerCase() === 'true') return { tracing: null, errors: [] };
  if (raw.OTEL_EXPORTER_OTLP_ENDPOINT === undefined && raw.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT === undefined) return { tracing: null, errors: [] };
  const parsed = tracingEnvSchema.safeParse(raw);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      const value = raw[name];
      // A cross-field check may fault a var left at its default.
      const shown = value === undefined ? `${(TRACING_DEFAULTS as Record<string, string>)[name]} (default)` : JSON.stringify(value);
      return `${name} = ${shown}: ${issue.message}`;
    });
    return { tracing: null, errors };
  }
  const e = parsed.data;
  return {
    tracing: {
      tracesUrl: e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? tracesUrlOf(e.OTEL_EXPORTER_OTLP_ENDPOINT!),
      serviceName: e.OTEL_SERVICE_NAME,
      sampler: e.OTEL_TRACES_SAMPLER,
      ratio: ratioOf(e.OTEL_TRACES_SAMPLER_ARG) ?? 1,
      scheduleDelayMs: e.OTEL_BSP_SCHEDULE_DELAY,
      exportTimeoutMs: e.OTEL_BSP_EXPORT_TIMEOUT,
      maxQueueSize: e.OTEL_BSP_MAX_QUEUE_SIZE,
      maxExportBatchSize: e.OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
    },
    errors: [],
  };
}

/** The spec's rule: the signal-wide endpoint is a base, the traces path goes after it. */
function tracesUrlOf(base: string): string {
  return `${base.endsWith('/') ? base : `${base}/`}v1/traces`;
}

function ratioOf(text: string): number | null {
  if (!/^\s*(\d+\.?\d*|\.\d+)\s*$/.test(text)) return null;
  const ratio = Number(text);
  return ratio <= 1 ? ratio : null;
}
