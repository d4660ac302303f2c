import { describe, expect, it } from 'vitest';
import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { headerList, portColon } from '../../src/tracing/request-tracing.js';
import { cappedPath } from '../../src/acceptor/access-log.js';
import { samplerOf } from '../../src/tracing/thread-tracing.js';
import { SAMPLERS } from '../../src/config/tracing-schema.js';

describe('the header list as a propagation carrier', () => {
  it('gives every line of a header (the propagator takes the first traceparent and joins the tracestate lines)', () => {
    const headers = ['accept', '*/*', 'tracestate', 'a=1', 'traceparent', 'one', 'tracestate', 'b=2', 'traceparent', 'two', 'tracestate', 'c=3'];
    expect(headerList.get(headers, 'traceparent')).toEqual(['one', 'two']);
    expect(headerList.get(headers, 'tracestate')).toEqual(['a=1', 'b=2', 'c=3']);
    expect(headerList.get(headers, 'accept')).toBe('*/*');
    expect(headerList.get(headers, 'missing')).toBeUndefined();
    expect(headerList.keys(headers)).toEqual(['accept', 'tracestate', 'traceparent', 'tracestate', 'traceparent', 'tracestate']);
  });

  it('writes one value in place of all the client sent, or adds it at the end', () => {
    const headers = ['traceparent', 'one', 'accept', '*/*', 'traceparent', 'two', 'x-a', '1'];
    headerList.set(headers, 'traceparent', 'ours');
    expect(headers).toEqual(['traceparent', 'ours', 'accept', '*/*', 'x-a', '1']);
    headerList.set(headers, 'tracestate', 's=1');
    expect(headers).toEqual(['traceparent', 'ours', 'accept', '*/*', 'x-a', '1', 'tracestate', 's=1']);
  });
});

describe('server.address and server.port from Host', () => {
  it.each([
    ['example.com', -1],
    ['example.com:8080', 11],
    ['127.0.0.1:80', 9],
    ['[::1]', -1],
    ['[::1]:8080', 5],
    ['::1', -1],
  ])('%s: the port colon at %d', (host, at) => {
    expect(portColon(host)).toBe(at);
  });
});

describe('a long path cut for a span or a log line', () => {
  it('is cut at 512 characters, never between the halves of a surrogate pair', () => {
    const before = `/${'a'.repeat(510)}`;
    expect(cappedPath(`${before}b${'c'.repeat(10)}`)).toBe(`${before}b…`);
    // The emoji's two halves at 511 and 512: the whole of it goes.
    expect(cappedPath(`${before}\u{1f600}${'c'.repeat(10)}`)).toBe(`${before}…`);
  });
});

describe('OTEL_TRACES_SAMPLER as the SDK sampler', () => {
  it('maps every name the config accepts, the ratio into the traceidratio ones', () => {
    const made = Object.fromEntries(SAMPLERS.map((sampler) => [sampler, samplerOf({ sampler, ratio: 0.25 })]));
    expect(made.always_on).toBeInstanceOf(AlwaysOnSampler);
    expect(made.always_off).toBeInstanceOf(AlwaysOffSampler);
    expect(made.traceidratio).toBeInstanceOf(TraceIdRatioBasedSampler);
    expect(made.traceidratio!.toString()).toContain('0.25');
    for (const parentBased of ['parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio']) expect(made[parentBased]).toBeInstanceOf(ParentBasedSampler);
    expect(made.parentbased_always_off!.toString()).toContain('AlwaysOffSampler');
    expect(made.parentbased_traceidratio!.toString()).toContain('0.25');
  });
});
