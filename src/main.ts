#!/usr/bin/env node
import { ConfigError, loadConfig } from './config/load.js';
import { unknownEnvNames } from './config/env-vars.js';
import { MACHINE_CPUS, oversubscribed } from './config/cpu-quota.js';
import { checkConfig, helpText, parseArgs, version } from './cli.js';
import { startGateway } from './coordinator/gateway.js';
import { warnUntunedMalloc } from './coordinator/malloc-tuning.js';
import { createLogger } from './log.js';

const command = parseArgs(process.argv.slice(2));
if (command.kind === 'help') {
  process.stdout.write(helpText());
  process.exit(0);
}
if (command.kind === 'version') {
  process.stdout.write(`ringgate ${version()}\n`);
  process.exit(0);
}
if (command.kind === 'usage-error') {
  process.stderr.write(`ringgate: ${command.message}\n\n${helpText()}`);
  process.exit(2);
}
const { configPath } = command;
if (command.kind === 'check') {
  const { ok, text } = checkConfig(process.env, configPath);
  (ok ? process.stdout : process.stderr).write(text);
  process.exit(ok ? 0 : 1);
}
const load = () => loadConfig(process.env, configPath);
let config;
try {
  config = load();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`ringgate: ${err.code}: ${err.message}\n`);
  process.exit(1);
}

const log = createLogger(config.settings.logLevel, { role: 'coordinator' });
warnUntunedMalloc(config.glibcTunables, log);
const unknownEnv = unknownEnvNames(process.env);
if (unknownEnv.length > 0) log.warn({ names: unknownEnv }, 'GATEWAY_* env vars that are no setting are ignored (see ringgate --help)');
const oversubscription = oversubscribed(config.settings.threads, MACHINE_CPUS.threads);
if (oversubscription !== null) log.warn({ threads: config.settings.threads, cpus: MACHINE_CPUS.cpus, cpuQuota: MACHINE_CPUS.quota }, oversubscription);
// Any client may then crash a thread with one request: said at start, as an unverified TLS node is.
if (config.settings.faultInjection) log.warn('GATEWAY_FAULT_INJECTION is on: any request under /_ringgate/fault/crash-thread/ crashes an acceptor thread (for tests only, never in production)');
// Node's default for SIGHUP ends the process: one sent while the gateway starts is applied once it listens.
let reloadWhenUp = false;
const hangUpWhileStarting = (): void => {
  reloadWhenUp = true;
};
process.on('SIGHUP', hangUpWhileStarting);
let gateway;
try {
  gateway = await startGateway(config, log, load);
} catch (err) {
  log.fatal({ err }, `ringgate could not start: ${(err as Error).message}`);
  process.exit(1);
}

const { settings } = gateway.config;
let stopping = false;
const shutdown = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  log.info({ signal, drainMs: settings.drainMs }, 'draining');
  gateway.stop().then(
    () => {
      log.info('stopped');
      process.exit(0);
    },
    (err: Error) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
};
// Installed before the readiness line: a supervisor may send SIGTERM as soon as it reads it.
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
// Read the config file and environment again and apply them live (the result is logged).
process.off('SIGHUP', hangUpWhileStarting);
process.on('SIGHUP', () => {
  if (!stopping) gateway.reload();
});
if (reloadWhenUp) gateway.reload();

const examplePath = gateway.config.routes.find((r) => r.prefix !== undefined)?.prefix ?? gateway.config.routes[0]!.exact!;
const hello = examplePath.endsWith('/') ? `${examplePath}hello` : examplePath;
log.info(
  { port: gateway.port, adminPort: gateway.adminPort, threads: settings.threads, cpus: MACHINE_CPUS.cpus, cpuQuota: MACHINE_CPUS.quota, config: gateway.config.source },
  'ringgate listening',
);
process.stderr.write(
  `ringgate listening on port ${gateway.port} (${settings.inlineAcceptor ? 'one acceptor on the main thread' : `${settings.threads} acceptor threads`}); metrics on http://${settings.adminHost}:${gateway.adminPort}/metrics\n` +
    `try: curl -H '${settings.tenantHeader}: acme' localhost:${gateway.port}${hello}\n`,
);
