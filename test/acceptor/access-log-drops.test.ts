import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { warnOfDrops } from '../../src/acceptor/access-log.js';

describe('access log lines dropped behind a stuck stdout', () => {
  it('are said once stdout takes lines again, with how many: never while it is stuck', () => {
    const destination = new EventEmitter();
    const warnings: unknown[] = [];
    warnOfDrops(destination, { warn: (fields: unknown) => warnings.push(fields) } as never);
    for (let i = 0; i < 3; i++) destination.emit('drop');
    // The thread's log writes synchronously: a warning now would wait for the stuck stdout.
    expect(warnings).toEqual([]);
    destination.emit('drain');
    expect(warnings).toEqual([{ dropped: 3 }]);
    // Drained again with nothing dropped: nothing to say.
    destination.emit('drain');
    expect(warnings).toHaveLength(1);
  });
});
