/**
 * `npm run check:uws`: runs every case of cases.ts against the built gateway, all at once so that
 * the idle-timeout cases overlap (about 13 s), prints one line per case with what it observed
 * against what is pinned, and exits 1 if any case CHANGED: a new uWebSockets.js build is judged
 * in one command, fixes and new breakage alike.
 */
import { rawExchange, statuses } from '../helpers/raw-http.js';
import { CASES, casePath } from './cases.js';
import { startCase } from './exchange.js';
import { startTarget, type Target } from './target.js';
import { judge, type Verdict } from './verdict.js';

const WIDTH = Math.max(...CASES.map((c) => c.name.length));
const line = (name: string, { ok, observed, pinned }: Verdict): string =>
  `${ok ? 'OK     ' : 'CHANGED'} ${name.padEnd(WIDTH)}  observed: ${observed} | pinned: ${pinned}`;

/** Every case, then one plain request: the thread must still serve after all of them. */
async function run(target: Target): Promise<[string, Verdict][]> {
  const verdicts = await Promise.all(
    CASES.map(async (c): Promise<[string, Verdict]> => {
      const observed = await startCase(target.port, c).observed;
      return [c.name, judge(c, observed, target.headersSeen(casePath(c.name)))];
    }),
  );
  const request = `GET ${casePath('after-all-cases')} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`;
  const status = statuses((await rawExchange(target.port, request)).text)[0];
  const serving = { ok: status === 200, observed: `answered ${status ?? 'nothing'} after every case`, pinned: 'answered 200' };
  return [...verdicts, ['still-serving', serving]];
}

const target = await startTarget();
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    console.log(`uWS limits: ${signal}, stopping the gateway; nothing judged`);
    void target.stop().finally(() => process.exit(1));
  });
}
let changed = 0;
try {
  const results = await run(target);
  if (!interrupted) {
    for (const [name, verdict] of results) console.log(line(name, verdict));
    changed = results.filter(([, verdict]) => !verdict.ok).length;
  }
} finally {
  const code = interrupted ? 0 : await target.stop();
  if (code !== 0) {
    changed++;
    console.log(`CHANGED gateway exited ${code} on SIGTERM, expected 0`);
  }
}
if (!interrupted) {
  console.log(changed === 0 ? 'uWS limits: every case as pinned' : `uWS limits: ${changed} changed; update test/uws-limits/cases.ts and the README`);
  process.exitCode = changed === 0 ? 0 : 1;
}
