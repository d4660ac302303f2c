import { expect, it } from 'vitest';
import { startGateway } from './gateway-process.js';

it('keeps a character whose bytes came in two reads of the gateway\'s stdout', async () => {
  // A stand-in for the gateway: it says it listens, then writes a line whose `…` (3 bytes) is cut
  // between two writes far enough apart to be two reads, as a long run of lines may be cut.
  const script = `
    process.stdout.write('{"msg":"ringgate listening","port":1,"adminPort":2}\\n');
    const line = Buffer.from('{"msg":"cut","path":"/p…"}\\n');
    const cut = line.indexOf('…') + 1;
    process.stdout.write(line.subarray(0, cut));
    setTimeout(() => process.stdout.write(line.subarray(cut)), 100);
    setTimeout(() => {}, 10000);
  `;
  const fake = await startGateway(null, {}, 5_000, () => [process.execPath, ['-e', script]]);
  try {
    await expect.poll(() => fake.logs.length, { timeout: 5_000 }).toBe(2);
    expect((JSON.parse(fake.logs[1]!) as { path: string }).path).toBe('/p…');
  } finally {
    await fake.stop();
  }
});
