import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Baseline } from './baseline.js';
import { coreVersions, describeMachine } from './machine.js';

const RESULTS = fileURLToPath(new URL('../results', import.meta.url));

/** A bench measuring this checkout as ringgate-1t, beside a baseline build as ringgate-base-1t when given. */
export interface BuildReport {
  /** The file's name before its time: `results/<kind>-<time>.md`. */
  readonly kind: string;
  readonly title: string;
  /** describeCheckout()'s words for this checkout. */
  readonly current: string;
  readonly baseline: Baseline | null;
  /** How it ran, after "Run: ". */
  readonly run: string;
  /** One per scenario. */
  readonly sections: readonly string[];
}

/** Writes the report to results/ and to stdout (garbage.ts, instructions.ts). */
export function writeBuildReport(report: BuildReport): void {
  const { kind, title, current, baseline, run, sections } = report;
  const date = new Date().toISOString();
  const header = [
    `# ${title}, ${date.slice(0, 10)}`,
    '',
    `Machine: ${describeMachine()}; ${coreVersions().join(', ')}  `,
    `Builds: ringgate-1t = ${current}${baseline === null ? '' : `; ringgate-base-1t = ${baseline.revision} (${baseline.short})`}  `,
    `Run: ${run}`,
  ].join('\n');
  const markdown = `${header}\n\n${sections.join('\n\n')}\n`;
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, `${kind}-${date.replace(/[:.]/g, '-')}.md`), markdown);
  process.stdout.write(markdown);
}
