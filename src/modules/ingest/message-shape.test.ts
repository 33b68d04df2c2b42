import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readContext, readMessage } from './message-shape.ts';

// The rules as a schema: the reference the hand-written reader must agree with.
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const PlainObject = z.custom<Record<string, unknown>>(isPlainObject, 'must be a JSON object');
const Id = z.union([z.string().trim().min(1).max(256), z.number().finite().transform(String)]);
const Time = z.union([z.string().max(64), z.number().finite()]);
const Text = (max: number) => z.string().max(max);
const Context = z.object({
  userAgent: Text(1024).optional(),
  locale: Text(35).optional(),
  timezone: Text(64).optional(),
  sessionId: Id.optional(),
  session_id: Id.optional(),
  gpc: z.boolean().optional(),
  page: z
    .object({
      path: Text(2048).optional(),
      url: Text(4096).optional(),
      referrer: Text(4096).optional(),
      title: Text(1024).optional(),
    })
    .optional(),
  campaign: z.object({ source: Text(256).optional() }).optional(),
});
const Message = z.object({
  type: z.string().min(1).max(64),
  event: z.string().min(1).max(256).optional(),
  name: Text(1024).nullish(),
  messageId: z.string().trim().min(1).max(256).optional(),
  userId: Id.nullish(),
  anonymousId: Id.nullish(),
  previousId: Id.nullish(),
  timestamp: Time.optional(),
  originalTimestamp: Time.optional(),
  sentAt: Time.optional(),
  properties: PlainObject.optional(),
  traits: PlainObject.optional(),
  context: z.unknown().optional(),
});

// Values near every rule's edges: lengths at and past each limit, blanks that trim to nothing, numbers
// that are and are not finite-representable ids, wrong types and nulls.
const edgeString = fc.oneof(
  fc.constantFrom('', ' ', '  x  ', 'a', '\t\n', 'page', 'track', '中文', '😀'),
  ...[1, 35, 36, 64, 65, 256, 257, 1024, 1025, 2048, 2049, 4096, 4097].map((n) =>
    fc.constantFrom('x'.repeat(n), ` ${'y'.repeat(n - 1)} `, ` ${'z'.repeat(Math.max(0, n - 2))}`),
  ),
  fc.string({ maxLength: 20 }),
);
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  edgeString,
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e21, 1e-7, Number.MAX_SAFE_INTEGER, 42),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constant([]),
  fc.constant({}),
  fc.dictionary(fc.constantFrom('a', 'source', 'path', '__proto__', 'constructor'), edgeString, {
    maxKeys: 3,
  }),
);
const maybe = (arb: fc.Arbitrary<unknown>) => fc.option(arb, { nil: undefined });
const page = fc.oneof(
  anyValue,
  fc.record(
    { path: maybe(anyValue), url: maybe(anyValue), referrer: maybe(anyValue), title: maybe(anyValue) },
    { requiredKeys: [] },
  ),
);
const context = fc.oneof(
  anyValue,
  fc.record(
    {
      userAgent: maybe(anyValue),
      locale: maybe(anyValue),
      timezone: maybe(anyValue),
      sessionId: maybe(anyValue),
      session_id: maybe(anyValue),
      gpc: maybe(anyValue),
      page: maybe(page),
      campaign: maybe(fc.oneof(anyValue, fc.record({ source: maybe(anyValue) }, { requiredKeys: [] }))),
      other: maybe(anyValue),
    },
    { requiredKeys: [] },
  ),
);
// Mostly plausible values, so that both outcomes come up in bulk; any value at all now and then.
const mostly = (plausible: fc.Arbitrary<unknown>) =>
  maybe(fc.oneof({ arbitrary: plausible, weight: 12 }, { arbitrary: anyValue, weight: 1 }));
const plausibleId = fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.integer(), edgeString);
const plausibleTime = fc.oneof(
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.integer(),
);
const plausibleObject = fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), {
  maxKeys: 3,
});
const message = fc.record(
  {
    type: fc.oneof(
      { arbitrary: fc.constantFrom('track', 'page', 'identify'), weight: 12 },
      { arbitrary: anyValue, weight: 1 },
    ),
    event: mostly(fc.string({ minLength: 1, maxLength: 30 })),
    name: mostly(fc.option(fc.string({ maxLength: 30 }))),
    messageId: mostly(plausibleId),
    userId: mostly(fc.option(plausibleId)),
    anonymousId: mostly(fc.option(plausibleId)),
    previousId: mostly(fc.option(plausibleId)),
    timestamp: mostly(plausibleTime),
    originalTimestamp: mostly(plausibleTime),
    sentAt: mostly(plausibleTime),
    properties: mostly(plausibleObject),
    traits: mostly(plausibleObject),
    context: maybe(context),
    extra: maybe(anyValue),
  },
  { requiredKeys: [] },
);

/** As JSON.parse would hand it over: no undefined values, `__proto__` as an own key. */
const asParsedJson = (v: unknown) => JSON.parse(JSON.stringify(v)) as Record<string, unknown>;

describe('message shape', () => {
  it('agrees with the schema on 20,000 generated messages: what passes, what it reads, which fields fail', () => {
    let valid = 0;
    fc.assert(
      fc.property(message, (generated) => {
        const raw = asParsedJson(generated);
        const expected = Message.safeParse(raw);
        const actual = readMessage(raw);
        expect(actual.ok).toBe(expected.success);
        if (expected.success && actual.ok) {
          valid++;
          expect(actual.message).toStrictEqual(expected.data);
        } else if (!expected.success && !actual.ok) {
          expect(actual.fields).toEqual([...new Set(expected.error.issues.map((i) => i.path.join('.')))]);
        }
      }),
      { numRuns: 20_000 },
    );
    // The generator must reach both outcomes in bulk, or the agreement proves little.
    expect(valid).toBeGreaterThan(200);
  });

  it('agrees with the schema on 20,000 generated contexts', () => {
    let valid = 0;
    fc.assert(
      fc.property(context, (generated) => {
        const raw = generated === undefined ? undefined : asParsedJson({ c: generated }).c;
        const expected = Context.safeParse(raw);
        const actual = readContext(raw);
        expect(actual !== null).toBe(expected.success);
        if (expected.success) {
          valid++;
          expect(actual).toStrictEqual(expected.data);
        }
      }),
      { numRuns: 20_000 },
    );
    expect(valid).toBeGreaterThan(200);
  });

  it('trims ids, turns numeric ids into text and keeps a string time as sent', () => {
    const read = readMessage({
      type: 'track',
      event: 'Product Viewed',
      messageId: '  m-1  ',
      userId: 12345,
      anonymousId: ' dev ',
      timestamp: '2025-03-01T12:00:00Z',
      context: { ip: '192.0.2.1' },
    });
    expect(read).toEqual({
      ok: true,
      message: {
        type: 'track',
        event: 'Product Viewed',
        messageId: 'm-1',
        userId: '12345',
        anonymousId: 'dev',
        timestamp: '2025-03-01T12:00:00Z',
        context: { ip: '192.0.2.1' },
      },
    });
    expect(readMessage({ type: '', userId: '   ', timestamp: null, traits: [] })).toEqual({
      ok: false,
      fields: ['type', 'userId', 'timestamp', 'traits'],
    });
    expect(readContext({ page: { path: '/p' }, campaign: {}, unknown: 1 })).toEqual({
      page: { path: '/p' },
      campaign: {},
    });
    expect(readContext({ gpc: 'yes' })).toBeNull();
  });
});
