import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { METRICS } from '../src/metrics/definitions.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
/** The README's metric table: name, type, and the label names before any parenthesis (values and notes). */
const rows = [...readme.matchAll(/^\| `(ringgate_[a-z_]+)` \| (counter|gauge|histogram) \|([^|\n]*)\|$/gm)].map((m) => ({
  name: m[1]!,
  type: m[2]!,
  labels: [...m[3]!.split('(')[0]!.matchAll(/`([a-z_]+)`/g)].map((label) => label[1]!),
}));

describe('metric definitions', () => {
  it('are the README table: every metric with its type and labels, and none else', () => {
    const defined = Object.entries(METRICS).map(([name, def]) => ({ name, type: def.type, labels: [...def.labels] }));
    expect(rows).toEqual(defined);
  });
});
