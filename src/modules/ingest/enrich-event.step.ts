/**
 * Enrichment: the user agent becomes a device class (and is then forgotten); crawlers are dropped.
 * No IP-to-location table ships with Candor, so country and region stay empty: the IP is never read
 * for storage and never stored.
 */
import type { EventRecord } from '../../storage/ports.ts';
import type { PseudonymousEvent } from './pseudonymise-event.step.ts';
import { drop, ok, type StepResult } from './step.ts';

export type DeviceClass = 'mobile' | 'tablet' | 'desktop' | 'tv' | 'console' | 'bot' | 'unknown';

export type EnrichedEvent = Omit<EventRecord, 'eventId' | 'sourceId'> & { messageId: string | null };

const BOT =
  /bot\b|bot\/|crawl|spider|slurp|headless|lighthouse|facebookexternalhit|preview|monitor|curl\/|wget|python-requests|httpclient/i;

/**
 * Classes of user agents seen lately. A shop's traffic comes from a few hundred browser builds, and the
 * regular expressions below were a tenth of the pipeline's time per event when run for each. Bounded in
 * count and in key length, so a client sending random agents costs memory for at most MAX_CACHED of them;
 * process memory only, like the request the agent came in.
 */
const classes = new Map<string, DeviceClass>();
const MAX_CACHED = 2_000;
const MAX_CACHED_LENGTH = 512;

export function deviceClassOf(userAgent: string | null): DeviceClass {
  if (userAgent === null) return 'unknown';
  if (userAgent.length > MAX_CACHED_LENGTH) return classify(userAgent);
  let known = classes.get(userAgent);
  if (known === undefined) {
    known = classify(userAgent);
    // The oldest entry makes room: a burst of unseen agents cannot push the cache past its bound.
    if (classes.size >= MAX_CACHED) classes.delete(classes.keys().next().value!);
    classes.set(userAgent, known);
  }
  return known;
}

function classify(ua: string): DeviceClass {
  if (ua.trim() === '') return 'unknown';
  if (BOT.test(ua)) return 'bot';
  if (/smart-?tv|hbbtv|appletv|googletv|crkey|roku|tizen|webos/i.test(ua)) return 'tv';
  if (/playstation|xbox|nintendo/i.test(ua)) return 'console';
  if (/ipad|tablet|kindle|silk|playbook/i.test(ua) || (/android/i.test(ua) && !/mobile/i.test(ua)))
    return 'tablet';
  if (/mobi|iphone|ipod|android|blackberry|iemobile|opera mini|windows phone/i.test(ua)) return 'mobile';
  if (/windows|macintosh|mac os x|x11|linux|cros/i.test(ua)) return 'desktop';
  return 'unknown';
}

export function enrichEvent(event: PseudonymousEvent): StepResult<EnrichedEvent> {
  const deviceClass = deviceClassOf(event.userAgent);
  if (deviceClass === 'bot') return drop('bot');
  return ok({
    messageId: event.messageId,
    subjectId: event.subjectId,
    anonymousId: event.anonymousId,
    userId: event.userId,
    sessionId: event.sessionId,
    type: event.type,
    purpose: event.purpose,
    consentId: event.consentId,
    ts: event.ts,
    receivedAt: event.receivedAt,
    path: event.path,
    referrer: event.referrer,
    productId: event.productId,
    category: event.category,
    query: event.query,
    orderId: event.orderId,
    revenue: event.revenue,
    currency: event.currency,
    quantity: event.quantity,
    deviceClass: deviceClass === 'unknown' ? null : deviceClass,
    country: null,
    region: null,
    utmSource: event.utmSource,
    props: JSON.stringify(event.props),
  });
}
