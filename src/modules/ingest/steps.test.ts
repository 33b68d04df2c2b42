import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPseudonymizer } from '../../kernel/crypto.ts';
import { consentGate } from './consent-gate.step.ts';
import { deviceClassOf, enrichEvent } from './enrich-event.step.ts';
import { eventTypeOf, SEGMENT_EVENT_NAMES } from './event-types.ts';
import { minimiseEvent } from './minimise-event.step.ts';
import { extractIdentifiers, pseudonymiseEvent } from './pseudonymise-event.step.ts';
import { luhnValid, scrubIdentifierLike, scrubText } from './scrub-event.step.ts';
import { jsonLargerThan, MAX_EVENT_BYTES, validateEvent } from './validate-event.step.ts';

const now = Date.parse('2025-03-01T12:00:00Z');
const pseudonymize = createPseudonymizer(Buffer.alloc(32, 7).toString('base64'));

describe('validate', () => {
  it('maps Segment e-commerce names onto the vocabulary', () => {
    expect(eventTypeOf('Product Viewed')).toBe('product_view');
    expect(eventTypeOf('Product Clicked')).toBe('search_click');
    expect(eventTypeOf('page_leave')).toBe('page_leave');
    expect(eventTypeOf('Signed Up')).toBeNull();
    expect(Object.keys(SEGMENT_EVENT_NAMES)).toHaveLength(10);
  });

  it('corrects device clock skew with sentAt, clamps the future and quarantines the far past', () => {
    const skewed = validateEvent(
      { type: 'page', anonymousId: 'a', timestamp: '2025-03-01T13:00:00Z', sentAt: '2025-03-01T13:00:10Z' },
      { receivedAt: now },
    );
    expect(skewed.kind === 'ok' && skewed.event.ts).toBe(now - 10_000);
    const future = validateEvent(
      { type: 'page', anonymousId: 'a', timestamp: '2030-01-01T00:00:00Z' },
      { receivedAt: now },
    );
    expect(future.kind === 'ok' && future.event.ts).toBe(now);
    expect(
      validateEvent(
        { type: 'page', anonymousId: 'a', timestamp: '2020-01-01T00:00:00Z' },
        { receivedAt: now },
      ),
    ).toMatchObject({
      kind: 'quarantine',
      reason: 'timestamp_too_old',
    });
  });

  it('quarantines invalid, unknown, anonymous-less, oversized and deeply nested events', () => {
    const q = (raw: unknown) => validateEvent(raw, { receivedAt: now });
    expect(q('x')).toMatchObject({ reason: 'invalid_event' });
    expect(q({ type: 'track', event: 'Whatever', anonymousId: 'a' })).toMatchObject({
      reason: 'unknown_event',
    });
    expect(q({ type: 'track', event: 'Product Viewed' })).toMatchObject({ reason: 'missing_identity' });
    expect(
      q({ type: 'page', anonymousId: 'a', properties: { x: 'y'.repeat(MAX_EVENT_BYTES) } }),
    ).toMatchObject({ reason: 'event_too_large' });
    let deep: unknown = {};
    for (let i = 0; i < 50; i++) deep = { a: deep };
    expect(q({ type: 'page', anonymousId: 'a', properties: deep })).toMatchObject({ reason: 'too_deep' });
  });
});

describe('event size and depth', () => {
  const exactlyLarger = (v: unknown, max: number) => Buffer.byteLength(JSON.stringify(v)) > max;

  it('judges size exactly as the UTF-8 JSON would measure, for any JSON value and limit', () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 6 }),
        fc.string({ unit: 'binary', maxLength: 40 }),
        fc.integer({ min: 0, max: 4_000 }),
        (value, text, max) => {
          const withText = { value, text };
          for (const v of [value, withText]) expect(jsonLargerThan(v, max, 50)).toBe(exactlyLarger(v, max));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('measures right at the limit, escapes and multi-byte text included', () => {
    const at = (s: string) => ({ s });
    const size = (v: unknown) => Buffer.byteLength(JSON.stringify(v));
    for (const s of [
      'x'.repeat(5_000),
      '"\\'.repeat(2_000),
      '日本'.repeat(1_500),
      '\u0001'.repeat(900),
      '😀'.repeat(1_200),
    ]) {
      const v = at(s);
      expect(jsonLargerThan(v, size(v), 50)).toBe(false);
      expect(jsonLargerThan(v, size(v) - 1, 50)).toBe(true);
    }
    // What JSON.stringify changes (toJSON) is measured as it writes it.
    const d = { when: new Date(0) };
    expect(jsonLargerThan(d, size(d), 50)).toBe(false);
    expect(jsonLargerThan(d, size(d) - 1, 50)).toBe(true);
  });

  it('counts depth as before: a value is level 1, and the walk stops one level past the limit', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 12; i++) deep = { a: deep };
    expect(jsonLargerThan(deep, 1e9, 12)).toBe(false);
    expect(jsonLargerThan({ b: deep }, 1e9, 12)).toBeNull();
    expect(jsonLargerThan([[[]]], 1e9, 2)).toBeNull();
    // Too deep is judged before size: a deep value over the limit is still "too deep".
    expect(jsonLargerThan({ b: deep, pad: 'x'.repeat(100) }, 10, 12)).toBeNull();
  });
});

describe('consent gate', () => {
  const ev = { type: 'product_view' as const };
  it('drops behaviour without consent and names the record that allowed it', () => {
    expect(consentGate(ev, { granted: false, consentId: 'c1' })).toEqual({
      kind: 'drop',
      reason: 'no_consent',
    });
    expect(consentGate(ev, { granted: true, consentId: 'c2' })).toMatchObject({
      kind: 'ok',
      event: { purpose: 'analytics', consentId: 'c2' },
    });
  });
  it('keeps orders without consent as necessary', () => {
    expect(
      consentGate({ type: 'order_completed' as const }, { granted: false, consentId: null }),
    ).toMatchObject({
      kind: 'ok',
      event: { purpose: 'necessary', consentId: null },
    });
  });
});

describe('minimise, pseudonymise, scrub, enrich', () => {
  function run(raw: Record<string, unknown>) {
    const v = validateEvent(raw, { receivedAt: now });
    if (v.kind !== 'ok') throw new Error(v.kind);
    const g = consentGate(v.event, { granted: true, consentId: 'c' });
    if (g.kind !== 'ok') throw new Error('gate');
    const m = minimiseEvent(g.event);
    if (m.kind !== 'ok') throw new Error('min');
    return m.event;
  }

  it('keeps only allow-listed properties, never prototype keys', () => {
    const raw = JSON.parse(
      '{"type":"track","event":"Product Added","anonymousId":"a","properties":{"product_id":"p1","quantity":2,"price":"10.5","__proto__":{"polluted":1},"constructor":"x","email":"a@b.example"}}',
    ) as Record<string, unknown>;
    const m = run(raw);
    expect(m).toMatchObject({ productId: 'p1', quantity: 2, props: { price: 10.5 } });
    expect(Object.keys(m.props)).toEqual(['price']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('takes direct identifiers out of identify traits and pseudonymises ids', () => {
    const traits = {
      email: 'ann@example.test',
      phone: '+62 812 3456 7890',
      firstName: 'Ann',
      lastName: 'Lee',
      plan: 'gold',
    };
    expect(extractIdentifiers(traits)).toEqual({
      email: 'ann@example.test',
      phone: '+62 812 3456 7890',
      name: 'Ann Lee',
    });
    const m = run({ type: 'identify', userId: 'cust-1', anonymousId: 'dev-1', traits });
    expect(m.props).toEqual({ plan: 'gold' });
    const p = pseudonymiseEvent(m, pseudonymize);
    expect(p.kind === 'ok' && p.event.subjectId).toBe(pseudonymize('user', 'cust-1'));
    expect(JSON.stringify(p)).not.toContain('cust-1');
  });

  it('scrubs card numbers, e-mails and phone numbers from free text, leaving prices and dates', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(scrubText('card 4111 1111 1111 1111 exp 12/27')).toBe('card [card] exp 12/27');
    expect(scrubText('mail me: Ann.Lee+x@mail.example.co.id')).toBe('mail me: [email]');
    expect(scrubText('call +62 812-3456-7890 or 0812 3456 7890 or 415-555-0132')).toBe(
      'call [phone] or [phone] or [phone]',
    );
    expect(scrubText('harga Rp 12.999.000 on 2024-01-05, order 4111111111111112')).toBe(
      'harga Rp 12.999.000 on 2024-01-05, order 4111111111111112',
    );
    expect(scrubIdentifierLike('SKU-081234567890')).toBe('SKU-081234567890');
  });

  it('classifies devices, drops bots and never stores the user agent', () => {
    expect(deviceClassOf('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148')).toBe(
      'mobile',
    );
    expect(deviceClassOf('Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)')).toBe('tablet');
    expect(deviceClassOf('Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120')).toBe('desktop');
    const m = run({
      type: 'page',
      anonymousId: 'a',
      context: { userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile', ip: '203.0.113.9' },
    });
    const p = pseudonymiseEvent(m, pseudonymize);
    if (p.kind !== 'ok') throw new Error('p');
    const e = enrichEvent(p.event);
    expect(e).toMatchObject({ kind: 'ok', event: { deviceClass: 'mobile', country: null } });
    expect(JSON.stringify(e)).not.toMatch(/Pixel|203\.0\.113/);
    expect(enrichEvent({ ...p.event, userAgent: 'Googlebot/2.1' })).toEqual({ kind: 'drop', reason: 'bot' });
  });

  it('answers a remembered agent as it did the first time, past the memory bound and for long agents', () => {
    const agents = Array.from({ length: 5_000 }, (_, i) =>
      i % 3 === 0
        ? `Mozilla/5.0 (iPhone; CPU iPhone OS 17_${i} like Mac OS X) Mobile`
        : i % 3 === 1
          ? `crawler-${i}/1.0 (+https://example.com/bot)`
          : `Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/${i}`,
    );
    const first = agents.map(deviceClassOf);
    expect(new Set(first)).toEqual(new Set(['mobile', 'bot', 'desktop']));
    // Asked again (the early ones were forgotten, the late ones are remembered) and in reverse order.
    expect([...agents].reverse().map(deviceClassOf)).toEqual([...first].reverse());
    const long = `Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) ${'x'.repeat(600)}`;
    expect(deviceClassOf(long)).toBe('tablet');
    expect(deviceClassOf('   ')).toBe('unknown');
    expect(deviceClassOf(null)).toBe('unknown');
  });
});
