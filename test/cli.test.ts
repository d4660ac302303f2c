import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envTable, otelEnvTable, parseArgs } from '../src/cli.js';
import { MAIN, writeConfig } from './helpers/gateway-process.js';

/** The built binary, run to its end with `env` only (no GATEWAY_* of the test runner's). */
function ringgate(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const { status, stdout, stderr } = spawnSync(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 20_000 });
  return { status, stdout, stderr };
}

const VALID = {
  routes: [{ prefix: '/', cluster: 'c' }, { prefix: '/b/', cluster: 'd' }],
  clusters: { c: { nodes: [{ id: 'n1', url: 'http://127.0.0.1:1' }, { id: 'n2', url: 'http://127.0.0.1:2' }] }, d: { nodes: [{ id: 'n3', url: 'http://127.0.0.1:3' }] } },
};

describe('command line', () => {
  it('parses the commands and flags', () => {
    expect(parseArgs([])).toEqual({ kind: 'run' });
    expect(parseArgs(['--config', 'f.json'])).toEqual({ kind: 'run', configPath: 'f.json' });
    expect(parseArgs(['check', '--config', 'f.json'])).toEqual({ kind: 'check', configPath: 'f.json' });
    expect(parseArgs(['check', '--help'])).toEqual({ kind: 'help' });
    expect(parseArgs(['--version'])).toEqual({ kind: 'version' });
    expect(parseArgs(['--config'])).toEqual({ kind: 'usage-error', message: '--config needs a FILE' });
    expect(parseArgs(['serve'])).toEqual({ kind: 'usage-error', message: 'unknown argument "serve"' });
  });

  it('ringgate check: "ok" and a summary, exit 0, for a config start-up would take', () => {
    const { status, stdout } = ringgate(['check', '--config', writeConfig(VALID)]);
    expect(status).toBe(0);
    expect(stdout).toMatch(/^ok: 2 routes, 2 clusters, 3 nodes in .*config\.json\n$/);
  });

  it('ringgate check: warns of a GATEWAY_* var that is no setting, and passes what it would start on', () => {
    const { status, stdout } = ringgate(['check', '--config', writeConfig(VALID)], { GATEWAY_MAX_BODY_BYTE: '10', GATEWAY_MAX_BODY_BYTES: '10' });
    expect(status).toBe(0);
    expect(stdout).toMatch(/^ok: .*\nwarning: GATEWAY_MAX_BODY_BYTE is no setting: ignored\n$/);
  });

  it('ringgate check: every error with its field, exit 1, for one it would refuse', () => {
    const bad = { routes: [{ prefix: 'no-slash', cluster: 'c' }], clusters: { c: { nodes: [{ id: 'n1', url: 'ftp://x' }] } } };
    const { status, stdout, stderr } = ringgate(['check'], { GATEWAY_CONFIG: writeConfig(bad), GATEWAY_PORT: 'eighty', GATEWAY_RATE_LIMIT_MODE: 'cluster' });
    expect(status).toBe(1);
    expect(stdout).toBe('');
    for (const field of ['GATEWAY_PORT = "eighty"', 'GATEWAY_RATE_LIMIT_MODE = "cluster"', 'routes[0].prefix = "no-slash"', 'clusters.c.nodes[0].url = "ftp://x"']) expect(stderr).toContain(field);
    expect(stderr).toMatch(/^ringgate: ERR_CONFIG: invalid config/);
  });

  it('ringgate check: one port for both servers on localhost and 127.0.0.1, exit 1', () => {
    const { status, stderr } = ringgate(['check', '--config', writeConfig(VALID)], { GATEWAY_HOST: 'localhost', GATEWAY_PORT: '9090' });
    expect(status).toBe(1);
    expect(stderr).toContain('GATEWAY_PORT = 9090: the admin port too (gateway.adminPort), and GATEWAY_HOST = "localhost" and gateway.adminHost = "127.0.0.1" may bind one address');
  });

  it('ringgate check: a cluster tls file that cannot be read, exit 1', () => {
    const withTls = { ...VALID, clusters: { ...VALID.clusters, d: { nodes: [{ id: 'n3', url: 'https://127.0.0.1:3' }], tls: { caFile: '/nonexistent/ca.pem' } } } };
    const { status, stderr } = ringgate(['check', '--config', writeConfig(withTls)]);
    expect(status).toBe(1);
    expect(stderr).toContain('clusters.d.tls.caFile = "/nonexistent/ca.pem": cannot read: ENOENT');
  });

  it('ringgate --version prints the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(ringgate(['--version'])).toEqual({ status: 0, stdout: `ringgate ${pkg.version}\n`, stderr: '' });
  });

  it('ringgate --help lists every env var of the README table with its default and meaning', () => {
    const { status, stdout } = ringgate(['--help']);
    expect(status).toBe(0);
    const plain = (markdown: string): string => markdown.replace(/\[([^\]]+)\]\([^)]+\)/g, '$1').replaceAll('`', '');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^\| `(GATEWAY_[A-Z0-9_]+)` \| (.*?) \| (.*) \|$/gm)];
    expect(rows.length).toBe(envTable().length);
    for (const [, name, defaultText, meaning] of rows) expect(stdout).toContain(`  ${name} (default: ${plain(defaultText!)})\n      ${plain(meaning!)}\n`);
  });

  it('ringgate check: a bad OpenTelemetry var, named with its value; --help lists those vars too', () => {
    const { status, stderr } = ringgate(['check', '--config', writeConfig(VALID)], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_SAMPLER_ARG: '2', OTEL_TRACES_SAMPLER: 'traceidratio' });
    expect(status).toBe(1);
    expect(stderr).toContain('OTEL_TRACES_SAMPLER_ARG = "2": must be a number from 0 to 1');
    const help = ringgate(['--help']).stdout;
    for (const { name } of otelEnvTable()) expect(help).toContain(`  ${name} (default: `);
  });

  it('refuses an unknown argument with the usage, exit 2', () => {
    const { status, stderr } = ringgate(['--verbose']);
    expect(status).toBe(2);
    expect(stderr).toContain('ringgate: unknown argument "--verbose"');
    expect(stderr).toContain('ringgate check [--config FILE]');
  });
});
