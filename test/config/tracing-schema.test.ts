import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, reloadedConfig } from '../../src/config/load.js';
import { OTEL_ENV_NAMES, readTracingEnv } from '../../src/config/tracing-schema.js';
import { otelEnvTable } from '../../src/cli.js';
import { writeConfig } from '../helpers/gateway-process.js';

const minimal = {
  routes: [{ prefix: '/', cluster: 'c' }],
  clusters: { c: { nodes: [{ id: 'n1', url: 'http://127.0.0.1:9001' }] } },
};
const ENDPOINT = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };

describe('tracing settings (OTEL_* env vars)', () => {
  it('is off without an endpoint, and with OTEL_SDK_DISABLED=true', () => {
    expect(readTracingEnv({})).toEqual({ tracing: null, errors: [] });
    // Not read while off: another service's sampler name is none of ours to judge.
    expect(readTracingEnv({ OTEL_TRACES_SAMPLER: 'jaeger_remote' })).toEqual({ tracing: null, errors: [] });
    expect(readTracingEnv({ ...ENDPOINT, OTEL_SDK_DISABLED: 'TRUE' })).toEqual({ tracing: null, errors: [] });
    expect(loadConfig({ GATEWAY_CONFIG: writeConfig(minimal) }).tracing).toBeNull();
  });

  it('takes the spec defaults, and the traces path after the base endpoint', () => {
    expect(readTracingEnv(ENDPOINT).tracing).toEqual({
      tracesUrl: 'http://127.0.0.1:4318/v1/traces',
      serviceName: 'ringgate',
      sampler: 'parentbased_always_on',
      ratio: 1,
      scheduleDelayMs: 5000,
      exportTimeoutMs: 30000,
      maxQueueSize: 2048,
      maxExportBatchSize: 512,
    });
    expect(readTracingEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example/base/' }).tracing?.tracesUrl).toBe('https://otel.example/base/v1/traces');
  });

  it('reads every var, the traces endpoint as it is and winning over the base', () => {
    const config = loadConfig({
      GATEWAY_CONFIG: writeConfig(minimal),
      ...ENDPOINT,
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:9999/spans',
      OTEL_SERVICE_NAME: 'edge',
      OTEL_TRACES_SAMPLER: 'ParentBased_TraceIdRatio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_BSP_EXPORT_TIMEOUT: '2000',
      OTEL_BSP_MAX_QUEUE_SIZE: '100',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '50',
    });
    expect(config.tracing).toEqual({
      tracesUrl: 'http://127.0.0.1:9999/spans',
      serviceName: 'edge',
      sampler: 'parentbased_traceidratio',
      ratio: 0.25,
      scheduleDelayMs: 100,
      exportTimeoutMs: 2000,
      maxQueueSize: 100,
      maxExportBatchSize: 50,
    });
    expect(Object.isFrozen(config.tracing)).toBe(true);
  });

  it('ignores the sampler argument of a sampler that takes none', () => {
    expect(readTracingEnv({ ...ENDPOINT, OTEL_TRACES_SAMPLER: 'always_on', OTEL_TRACES_SAMPLER_ARG: 'x' }).errors).toEqual([]);
  });

  it.each([
    [{ OTEL_TRACES_SAMPLER: 'sometimes' }, 'OTEL_TRACES_SAMPLER = "sometimes": must be one of always_on, always_off, traceidratio'],
    [{ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' }, 'OTEL_TRACES_SAMPLER_ARG = "1.5": must be a number from 0 to 1'],
    [{ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: 'half' }, 'OTEL_TRACES_SAMPLER_ARG = "half": must be a number from 0 to 1'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT = "collector:4318": must be an http:// or https:// URL'],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://c:4317' }, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = "grpc://c:4317": must be an http:// or https:// URL'],
    [{ OTEL_BSP_SCHEDULE_DELAY: '1s' }, 'OTEL_BSP_SCHEDULE_DELAY = "1s": expected a whole number'],
    [{ OTEL_BSP_MAX_QUEUE_SIZE: '10' }, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE = 512 (default): must not exceed OTEL_BSP_MAX_QUEUE_SIZE (10)'],
    [{ OTEL_SDK_DISABLED: 'yes' }, 'OTEL_SDK_DISABLED = "yes": expected true or false'],
  ])('a bad value is a config error naming the var: %j', (env, expected) => {
    try {
      loadConfig({ GATEWAY_CONFIG: writeConfig(minimal), ...ENDPOINT, ...env });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain(expected);
      return;
    }
    throw new Error('expected a ConfigError');
  });

  it('keeps the running tracing on a reload, naming it among the settings that need a restart', () => {
    const path = writeConfig(minimal);
    const running = loadConfig({ GATEWAY_CONFIG: path });
    const next = loadConfig({ GATEWAY_CONFIG: path, ...ENDPOINT });
    const { config, needRestart } = reloadedConfig(next, running);
    expect(config.tracing).toBeNull();
    expect(needRestart).toEqual(['tracing']);
    expect(reloadedConfig(running, running).needRestart).toEqual([]);
  });

  it('documents every OTEL var it reads in the README OpenTelemetry table, with its default and meaning, and no other', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^\| `(OTEL_[A-Z0-9_]+)` \| (.*?) \| (.*) \|$/gm)].map(([, name, defaultText, meaning]) => ({ name, defaultText, meaning }));
    expect(rows).toEqual(otelEnvTable());
    expect(rows.map((r) => r.name)).toEqual([...OTEL_ENV_NAMES]);
    expect(rows.every((r) => r.meaning !== '')).toBe(true);
  });
});
