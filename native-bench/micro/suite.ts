import { Bench } from 'tinybench';

export interface MicroTask {
  readonly name: string;
  /** Does `batch` operations (the suite's batch unless given), so per-op time is above timer noise. */
  readonly run: () => void | Promise<void>;
  readonly batch?: number;
}

export interface MicroSuite {
  readonly title: string;
  readonly tasks: readonly MicroTask[];
}

export interface MicroResult {
  readonly suite: string;
  readonly task: string;
  readonly nsPerOp: number;
  /** Relative margin of error of the mean, in percent. */
  readonly rmePercent: number;
  readonly samples: number;
}

export async function runSuite(suite: MicroSuite, batch: number, timeMs: number): Promise<MicroResult[]> {
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(200, timeMs) });
  for (const task of suite.tasks) bench.add(task.name, task.run);
  await bench.run();
  return bench.tasks.map((task, i) => {
    const result = task.result;
    if (result.state !== 'completed') throw new Error(`${suite.title} / ${task.name}: ${result.state}`);
    const perCall = suite.tasks[i]!.batch ?? batch;
    return {
      suite: suite.title,
      task: task.name,
      nsPerOp: (result.latency.mean * 1e6) / perCall,
      rmePercent: result.latency.rme,
      samples: result.latency.samplesCount,
    };
  });
}

export function microTable(results: readonly MicroResult[]): string {
  const parts: string[] = [];
  let current = '';
  for (const r of results) {
    if (r.suite !== current) {
      current = r.suite;
      parts.push('', `### ${r.suite}`, '', '| operation | ns/op | ± |', '|---|---:|---:|');
    }
    const ns = r.nsPerOp >= 100 ? r.nsPerOp.toFixed(0) : r.nsPerOp.toFixed(1);
    parts.push(`| ${r.task} | ${ns} | ${r.rmePercent.toFixed(1)}% |`);
  }
  return parts.join('\n');
}
