/**
 * Top frames of a 0x profile, from the `*.v8.log.json` it leaves next to the flamegraph (V8's
 * --prof log, preprocessed): the share of ticks per VM state, the functions ticks landed in (self)
 * and the JS functions on the stack (inclusive). Idle ticks (waiting in epoll) are left out.
 */
interface CodeEntry {
  readonly name: string;
  readonly type: string;
}

interface Tick {
  readonly vm: number;
  /** Pairs of (code index or -1 for an address V8 could not name, pc offset), innermost first. */
  readonly s: readonly number[];
}

export interface V8LogJson {
  readonly code: readonly CodeEntry[];
  readonly ticks: readonly Tick[];
}

/** V8's StateTag values, as in v8/include/v8-unwinder.h. */
const VM_STATES = ['JS', 'GC', 'PARSER', 'BYTECODE_COMPILER', 'COMPILER', 'OTHER', 'EXTERNAL', 'ATOMICS_WAIT', 'IDLE'];
const IDLE = 8;

function frameName(code: readonly CodeEntry[], index: number): string {
  if (index < 0) return '(unnamed native code)';
  const entry = code[index];
  if (entry === undefined) return '(unknown)';
  const name = entry.name.trim() || '(anonymous)';
  // Paths from the project root on: the machine's own directories say nothing.
  return entry.type === 'JS' ? name.replace(/(?:file:\/\/)?\/\S*?\/(node_modules|dist)\//, '$1/') : `[${entry.type}] ${name}`;
}

function top(counts: Map<string, number>, total: number, limit: number): string[] {
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, n]) => `| ${((n / total) * 100).toFixed(1)}% | \`${name.replace(/\|/g, '\\|')}\` |`);
}

export function topFrames(profile: V8LogJson, limit = 20): string {
  const busy = profile.ticks.filter((t) => t.vm !== IDLE);
  const states = new Map<string, number>();
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const tick of busy) {
    const state = VM_STATES[tick.vm] ?? `state ${tick.vm}`;
    states.set(state, (states.get(state) ?? 0) + 1);
    const leaf = frameName(profile.code, tick.s[0] ?? -1);
    self.set(leaf, (self.get(leaf) ?? 0) + 1);
    const seen = new Set<string>();
    for (let i = 0; i < tick.s.length; i += 2) {
      const index = tick.s[i]!;
      if (index < 0 || profile.code[index]?.type !== 'JS') continue;
      seen.add(frameName(profile.code, index));
    }
    for (const name of seen) inclusive.set(name, (inclusive.get(name) ?? 0) + 1);
  }
  const total = Math.max(1, busy.length);
  return [
    `${busy.length} busy ticks (${profile.ticks.length - busy.length} idle left out).`,
    '',
    '| VM state | share |',
    '|---|---:|',
    ...[...states].sort((a, b) => b[1] - a[1]).map(([s, n]) => `| ${s} | ${((n / total) * 100).toFixed(1)}% |`),
    '',
    'Self (where the tick landed):',
    '',
    '| share | frame |',
    '|---:|---|',
    ...top(self, total, limit),
    '',
    'Inclusive (JS functions on the stack):',
    '',
    '| share | function |',
    '|---:|---|',
    ...top(inclusive, total, limit),
  ].join('\n');
}
