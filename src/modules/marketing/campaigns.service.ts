/**
 * Campaigns: a message to a segment over e-mail (SMTP) or a signed webhook (the shop's push gateway).
 *
 * Every recipient is one `mkt_campaign_sends` row, unique per (campaign, subject), planned once when the
 * campaign starts. A row is claimed (`pending → sending`) by a conditional update before anything leaves,
 * and marked `sent` after; a row found still `sending` by a later run (the process died in between) is
 * marked `unknown` and never sent again: at most once, so a restart never sends twice.
 *
 * At send time, per recipient and in this order: the global suppression list, consent for the channel's
 * purpose (`marketing_email` / `marketing_push`), the frequency cap, an address (read from the vault for this
 * purpose only, audited by the reader), quiet hours in the shopper's time zone (deferred, not dropped).
 * The hold-out group goes through the same eligibility checks and receives nothing, so lift compares like
 * with like.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../../kernel/clock.ts';
import { constantTimeEqual, hmacSha256 } from '../../kernel/crypto.ts';
import { AppError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { EventStore, StateStore } from '../../storage/ports.ts';
import {
  createSmtpMailer,
  createWebhookSender,
  type Mailer,
  type SmtpConfig,
  type WebhookSender,
} from './mailer.ts';
import type { SegmentsService } from './segments.service.ts';
import { compareArms } from './statistics.ts';
import { marketingDb, type CampaignRow, type CampaignSendRow } from './store.ts';

const DAY = 86_400_000;
export const CHANNELS = ['email', 'webhook'] as const;
export type Channel = (typeof CHANNELS)[number];
export const CHANNEL_PURPOSE = { email: 'marketing_email', webhook: 'marketing_push' } as const;
export const LOCALES = ['en', 'id', 'zh'] as const;
export type Locale = (typeof LOCALES)[number];
/** The only placeholders a template may use; each is filled from data the shopper consented to. */
export const PLACEHOLDERS = ['name', 'products', 'unsubscribe_url', 'shop'] as const;

const Localised = z.object({
  en: z.string().min(1).max(20_000),
  id: z.string().min(1).max(20_000).optional(),
  zh: z.string().min(1).max(20_000).optional(),
});
export const TemplateSchema = z
  .object({
    subject: Localised,
    text: Localised,
    /** The language for shoppers whose locale is unknown or has no text here (default: the module's). */
    defaultLocale: z.enum(LOCALES).optional(),
  })
  .superRefine((t, ctx) => {
    for (const part of [t.subject, t.text])
      for (const v of Object.values(part))
        for (const m of String(v).matchAll(/\{\{\s*([a-z_]+)\s*\}\}/g))
          if (!(PLACEHOLDERS as readonly string[]).includes(m[1]!))
            ctx.addIssue({
              code: 'custom',
              message: `Unknown placeholder {{${m[1]}}}; use ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}.`,
            });
  });
export type Template = z.infer<typeof TemplateSchema>;

export type CampaignInput = {
  key: string;
  name: string;
  segment: string;
  channel: Channel;
  template: Template;
  /** Share of the audience kept as a hold-out group (0–0.5). */
  holdout?: number;
  /** At most `count` marketing messages per shopper per `days` (all campaigns); count 0 = no cap. */
  frequencyCap?: { count: number; days: number };
  /** Local hours [start, end) when nothing is sent, e.g. 21 → 8. */
  quietHours?: { start: number; end: number };
  /** Time zone for shoppers whose own is unknown (IANA name). */
  timeZone?: string;
  webhookUrl?: string;
  /** Conversions are counted this many days after the campaign started. */
  conversionWindowDays?: number;
};

export type Campaign = {
  id: string;
  key: string;
  name: string;
  segmentId: string;
  channel: Channel;
  purpose: 'marketing_email' | 'marketing_push';
  template: Template;
  holdout: number;
  frequencyCap: { count: number; days: number };
  quietHours: { start: number; end: number } | null;
  timeZone: string;
  webhookUrl: string | null;
  conversionWindowDays: number;
  status: 'draft' | 'sending' | 'sent';
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
};

export type Contact = { email: string | null; name: string | null };

/** Delivery preferences the shopper's own devices reported (profiles); null when unknown. */
export type Preferences = { timeZone: string | null; locale: string | null };

/** What campaigns need from profiles, consent, recommendations and the record of processing. */
export type CampaignAudience = {
  linked(subjectId: string): Promise<string[]>;
  isPersonalised(subjectIds: readonly string[]): Promise<boolean>;
  consentAt(subjectIds: readonly string[], purpose: string, ts: number): Promise<boolean>;
  /** Time zone (quiet hours) and locale (template language); no vault read. */
  preferencesOf(subjectIds: readonly string[]): Promise<Preferences>;
  /** Reads the vault for this purpose only; the reader writes the audit record. */
  contactOf(subjectIds: readonly string[], purpose: string): Promise<Contact | null>;
  /** A product block; `personalised: false` asks for the non-personalised (popular) list. */
  products?(
    subjectIds: readonly string[],
    personalised: boolean,
    limit: number,
  ): Promise<{ id: string; title: string }[]>;
  logShare(entry: {
    recipient: string;
    purpose: string;
    categories: string[];
    records: number;
    reason: string;
    subjectId: string;
  }): Promise<unknown>;
};

export type CampaignsConfig = {
  smtp?: SmtpConfig | undefined;
  /** Signs unsubscribe links and webhooks. */
  secret: string;
  /** Base of unsubscribe links, e.g. https://shop.example (the API must be reachable there). */
  publicUrl: string;
  shopName?: string;
  /** The shop's language for shoppers whose locale is unknown (a campaign may set its own); default en. */
  defaultLocale?: Locale;
  webhook?: { attempts?: number; backoffMs?: number };
  /** A `sending` row older than this is from a process that died mid-send. */
  leaseMs?: number;
};

export type ExclusionReason = 'suppressed' | 'no_consent' | 'frequency_cap' | 'no_address' | 'send_failed';

export type SendReport = {
  campaign: string;
  dryRun: boolean;
  status: Campaign['status'];
  audience: number;
  holdout: number;
  /** Delivered in this run (or, for a dry run, would be). */
  sent: number;
  /** Delivered by earlier runs. */
  alreadySent: number;
  excluded: Record<ExclusionReason, number>;
  /** Waiting for the end of quiet hours; a later run (the resume job) sends them. */
  deferred: number;
  /** Claimed by a run that died before confirming: never sent again. */
  unknown: number;
  stopped: boolean;
  /** Subject pseudonyms that receive (or would receive) it in this run. */
  recipients: string[];
};

const FALLBACK_NAME: Record<Locale, string> = { en: 'there', id: 'Kak', zh: '顾客' };
const PRODUCTS_HEADING: Record<Locale, string> = {
  en: 'Picked for you',
  id: 'Pilihan untukmu',
  zh: '为您精选',
};
const POPULAR_HEADING: Record<Locale, string> = {
  en: 'Popular right now',
  id: 'Sedang populer',
  zh: '当前热门',
};

/** A BCP 47 tag (`id-ID`, `zh-Hans-CN`, legacy `in`) → one of the template languages, or null. */
export const localeOf = (raw: string | null | undefined): Locale | null => {
  const l = (raw ?? '').toLowerCase();
  return l.startsWith('zh')
    ? 'zh'
    : l.startsWith('id') || l.startsWith('in')
      ? 'id'
      : l.startsWith('en')
        ? 'en'
        : null;
};

/** The shopper's language when the template has it, else the shop's default, else English. */
export const pickLocale = (
  raw: string | null | undefined,
  template: Template,
  shopDefault: Locale = 'en',
): Locale => {
  const has = (l: Locale) => template.subject[l] !== undefined && template.text[l] !== undefined;
  const want = localeOf(raw);
  if (want !== null && has(want)) return want;
  const fallback = template.defaultLocale ?? shopDefault;
  return has(fallback) ? fallback : 'en';
};

/** An IANA zone name Intl accepts, or null (an unknown zone is ignored, never an error at send time). */
export function validTimeZone(zone: string | null | undefined): string | null {
  if (!zone) return null;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return zone;
  } catch {
    return null;
  }
}

/** Local hour (0–23) of `ts` in an IANA time zone; an unknown zone falls back to UTC. */
export function localHour(ts: number, timeZone: string): number {
  try {
    return Number(
      new Intl.DateTimeFormat('en-GB', { timeZone, hour: 'numeric', hourCycle: 'h23' }).format(ts),
    );
  } catch {
    return new Date(ts).getUTCHours();
  }
}

export const inQuietHours = (hour: number, q: { start: number; end: number }): boolean =>
  q.start === q.end
    ? false
    : q.start < q.end
      ? hour >= q.start && hour < q.end
      : hour >= q.start || hour < q.end;

const render = (text: string, values: Record<string, string>): string =>
  text.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_, k: string) => values[k] ?? '');

const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');

const toCampaign = (r: CampaignRow): Campaign => ({
  id: r.id,
  key: r.key,
  name: r.name,
  segmentId: r.segment_id,
  channel: r.channel as Channel,
  purpose: CHANNEL_PURPOSE[r.channel as Channel],
  template: JSON.parse(r.template) as Template,
  holdout: Number(r.holdout),
  frequencyCap: { count: Number(r.cap_count), days: Number(r.cap_days) },
  quietHours:
    r.quiet_start === null || r.quiet_end === null
      ? null
      : { start: Number(r.quiet_start), end: Number(r.quiet_end) },
  timeZone: r.time_zone,
  webhookUrl: r.webhook_url,
  conversionWindowDays: Number(r.window_days),
  status: r.status as Campaign['status'],
  createdAt: Number(r.created_at),
  startedAt: r.started_at === null ? null : Number(r.started_at),
  finishedAt: r.finished_at === null ? null : Number(r.finished_at),
});

const emptyExcluded = (): Record<ExclusionReason, number> => ({
  suppressed: 0,
  no_consent: 0,
  frequency_cap: 0,
  no_address: 0,
  send_failed: 0,
});

export function createCampaignsService(
  deps: {
    state: StateStore;
    events: EventStore;
    clock: Clock;
    segments: SegmentsService;
    audience: CampaignAudience;
  },
  config: CampaignsConfig,
) {
  const db = marketingDb(deps.state);
  const now = () => deps.clock.now().getTime();
  const leaseMs = config.leaseMs ?? 10 * 60_000;
  let mailer: Mailer | null = null;
  const mailerOf = (): Mailer => {
    if (!config.smtp)
      throw new AppError(
        'precondition_failed',
        'No SMTP relay is configured; set the marketing SMTP settings before sending e-mail campaigns.',
      );
    return (mailer ??= createSmtpMailer(config.smtp));
  };
  const webhook: WebhookSender = createWebhookSender({ secret: config.secret, ...config.webhook });

  // --- unsubscribe links (RFC 8058) -------------------------------------------------------------------
  const sign = (payload: string) => b64u(hmacSha256(config.secret, `unsubscribe:${payload}`));
  function unsubscribeToken(subjectId: string, channel: Channel, campaignId: string): string {
    const payload = b64u(JSON.stringify([subjectId, channel, campaignId]));
    return `${payload}.${sign(payload)}`;
  }
  function verifyToken(token: string): { subjectId: string; channel: Channel; campaignId: string } | null {
    const [payload, sig] = token.split('.');
    if (!payload || !sig || !constantTimeEqual(sig, sign(payload))) return null;
    try {
      const [subjectId, channel, campaignId] = JSON.parse(
        Buffer.from(payload, 'base64url').toString('utf8'),
      ) as [string, Channel, string];
      return { subjectId, channel, campaignId };
    } catch {
      return null;
    }
  }
  const unsubscribeUrl = (token: string) =>
    `${config.publicUrl.replace(/\/$/, '')}/v1/unsubscribe/${encodeURIComponent(token)}`;

  async function suppress(subjectIds: readonly string[], channel: Channel | 'all', reason: string) {
    const at = now();
    for (const s of new Set(subjectIds))
      await db
        .insertInto('mkt_suppressions')
        .values({ subject_id: s, channel, reason, created_at: at })
        .onConflict((oc) => oc.columns(['subject_id', 'channel']).doNothing())
        .execute();
  }

  async function isSuppressed(ids: readonly string[], channel: Channel): Promise<boolean> {
    const row = await db
      .selectFrom('mkt_suppressions')
      .select('subject_id')
      .where('subject_id', 'in', [...ids])
      .where('channel', 'in', [channel, 'all'])
      .executeTakeFirst();
    return row !== undefined;
  }

  async function sentSince(ids: readonly string[], since: number): Promise<number> {
    const r = await db
      .selectFrom('mkt_campaign_sends')
      .select((e) => e.fn.countAll<number | string>().as('n'))
      .where('subject_id', 'in', [...ids])
      .where('status', '=', 'sent')
      .where('sent_at', '>=', since)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async function get(idOrKey: string): Promise<Campaign> {
    const row = await db
      .selectFrom('mkt_campaigns')
      .selectAll()
      .where((w) => w.or([w('id', '=', idOrKey), w('key', '=', idOrKey)]))
      .executeTakeFirst();
    if (!row) throw new AppError('not_found', `No campaign "${idOrKey}". List them with GET /v1/campaigns.`);
    return toCampaign(row);
  }

  const inHoldout = (campaignId: string, subjectId: string, share: number) =>
    createHash('sha256').update(`${campaignId}:${subjectId}`).digest().readUInt32BE(0) / 2 ** 32 < share;

  /** Plans the audience once: one row per member, in the treatment or the hold-out group. */
  async function plan(c: Campaign): Promise<void> {
    await deps.segments.refresh(c.segmentId);
    const members = await deps.segments.members(c.segmentId);
    const at = now();
    for (let i = 0; i < members.length; i += 500)
      await db
        .insertInto('mkt_campaign_sends')
        .values(
          members.slice(i, i + 500).map((s) => ({
            id: newId('snd'),
            campaign_id: c.id,
            subject_id: s,
            grp: inHoldout(c.id, s, c.holdout) ? 'holdout' : 'treatment',
            status: 'pending',
            reason: null,
            attempts: 0,
            planned_at: at,
            claimed_at: null,
            sent_at: null,
            message_id: null,
          })),
        )
        .onConflict((oc) => oc.columns(['campaign_id', 'subject_id']).doNothing())
        .execute();
  }

  type Check =
    | {
        ok: true;
        contact: Contact | null;
        preferences: Preferences;
        ids: string[];
        personalised: boolean;
      }
    | { ok: false; reason: ExclusionReason | 'quiet_hours' };

  async function check(c: Campaign, subjectId: string, holdout: boolean): Promise<Check> {
    const at = now();
    const ids = await deps.audience.linked(subjectId);
    if (await isSuppressed(ids, c.channel)) return { ok: false, reason: 'suppressed' };
    if (!(await deps.audience.consentAt(ids, c.purpose, at))) return { ok: false, reason: 'no_consent' };
    if (
      c.frequencyCap.count > 0 &&
      (await sentSince(ids, at - c.frequencyCap.days * DAY)) >= c.frequencyCap.count
    )
      return { ok: false, reason: 'frequency_cap' };
    const none: Preferences = { timeZone: null, locale: null };
    // The hold-out group is never contacted, so its address is never read.
    if (holdout) return { ok: true, contact: null, preferences: none, ids, personalised: false };
    // Quiet hours in the shopper's own time zone (the campaign's when unknown), checked before the address
    // is read: a deferred shopper's vault is not opened until the message can actually go.
    const preferences = await deps.audience.preferencesOf(ids);
    const zone = validTimeZone(preferences.timeZone) ?? c.timeZone;
    if (c.quietHours && inQuietHours(localHour(at, zone), c.quietHours))
      return { ok: false, reason: 'quiet_hours' };
    const contact = c.channel === 'email' ? await deps.audience.contactOf(ids, c.purpose) : null;
    if (c.channel === 'email' && !contact?.email) return { ok: false, reason: 'no_address' };
    return { ok: true, contact, preferences, ids, personalised: await deps.audience.isPersonalised(ids) };
  }

  async function compose(c: Campaign, row: CampaignSendRow, ok: Extract<Check, { ok: true }>) {
    const locale = pickLocale(ok.preferences.locale, c.template, config.defaultLocale);
    const token = unsubscribeToken(row.subject_id, c.channel, c.id);
    const categories = c.channel === 'email' ? ['email_address'] : ['pseudonymous_id'];
    // The name and a personalised product block only for shoppers who consented to personalisation.
    const name = ok.personalised && ok.contact?.name ? ok.contact.name : FALLBACK_NAME[locale];
    if (ok.personalised && ok.contact?.name) categories.push('name');
    let products = '';
    const usesProducts = /\{\{\s*products\s*\}\}/.test(c.template.text[locale] ?? c.template.text.en);
    if (usesProducts && deps.audience.products) {
      const items = await deps.audience.products(ok.ids, ok.personalised, 4);
      if (ok.personalised && items.length > 0) categories.push('recommendations');
      products =
        items.length === 0
          ? ''
          : `${(ok.personalised ? PRODUCTS_HEADING : POPULAR_HEADING)[locale]}:\n${items.map((p) => `- ${p.title}`).join('\n')}`;
    }
    const values = {
      name,
      products,
      unsubscribe_url: unsubscribeUrl(token),
      shop: config.shopName ?? 'our shop',
    };
    return {
      locale,
      categories,
      unsubscribeUrl: values.unsubscribe_url,
      subject: render(c.template.subject[locale] ?? c.template.subject.en, values),
      text: render(c.template.text[locale] ?? c.template.text.en, values),
    };
  }

  async function deliver(c: Campaign, row: CampaignSendRow, ok: Extract<Check, { ok: true }>) {
    const m = await compose(c, row, ok);
    const messageId = `<${row.id}@candor>`;
    if (c.channel === 'email') {
      const mail = mailerOf();
      await mail.send({
        to: ok.contact!.email!,
        subject: m.subject,
        text: m.text,
        unsubscribeUrl: m.unsubscribeUrl,
        messageId,
        language: m.locale,
      });
      return { messageId, recipient: mail.recipient, categories: m.categories };
    }
    if (!c.webhookUrl) throw new AppError('precondition_failed', 'This campaign has no webhook URL.');
    await webhook.send(
      c.webhookUrl,
      {
        type: 'campaign.message',
        campaign: c.key,
        messageId: row.id,
        subjectId: row.subject_id,
        locale: m.locale,
        title: m.subject,
        body: m.text,
        unsubscribeUrl: m.unsubscribeUrl,
      },
      row.id,
    );
    return { messageId, recipient: `webhook:${new URL(c.webhookUrl).host}`, categories: m.categories };
  }

  async function send(
    idOrKey: string,
    options: { dryRun?: boolean; signal?: AbortSignal } = {},
  ): Promise<SendReport> {
    let c = await get(idOrKey);
    const dryRun = options.dryRun ?? false;
    const report: SendReport = {
      campaign: c.key,
      dryRun,
      status: c.status,
      audience: 0,
      holdout: 0,
      sent: 0,
      alreadySent: 0,
      excluded: emptyExcluded(),
      deferred: 0,
      unknown: 0,
      stopped: false,
      recipients: [],
    };

    if (dryRun) {
      // Nothing is written: evaluate the audience (or the planned one) and run every check.
      const planned = await db
        .selectFrom('mkt_campaign_sends')
        .selectAll()
        .where('campaign_id', '=', c.id)
        .execute();
      const rows =
        planned.length > 0
          ? planned
          : [...(await deps.segments.evaluate((await deps.segments.get(c.segmentId)).rule))].map((s) => ({
              subject_id: s,
              grp: inHoldout(c.id, s, c.holdout) ? 'holdout' : 'treatment',
              status: 'pending',
            }));
      report.audience = rows.length;
      for (const r of rows) {
        if (r.grp === 'holdout') {
          report.holdout++;
          continue;
        }
        if (r.status === 'sent') report.alreadySent++;
        if (r.status === 'unknown' || r.status === 'sending') report.unknown++;
        if (r.status === 'excluded')
          report.excluded[(('reason' in r && r.reason) || 'send_failed') as ExclusionReason]++;
        if (r.status !== 'pending') continue;
        const ok = await check(c, r.subject_id, false);
        if (ok.ok) {
          report.sent++;
          report.recipients.push(r.subject_id);
        } else if (ok.reason === 'quiet_hours') report.deferred++;
        else report.excluded[ok.reason]++;
      }
      return report;
    }

    if (c.status === 'draft') {
      await plan(c);
      await db
        .updateTable('mkt_campaigns')
        .set({ status: 'sending', started_at: now() })
        .where('id', '=', c.id)
        .where('status', '=', 'draft')
        .execute();
      c = await get(c.id);
    }
    // A row still `sending` past its lease was claimed by a run that died: it may have gone out, so it is
    // never sent again.
    await db
      .updateTable('mkt_campaign_sends')
      .set({ status: 'unknown' })
      .where('campaign_id', '=', c.id)
      .where('status', '=', 'sending')
      .where('claimed_at', '<', now() - leaseMs)
      .execute();

    const pending = await db
      .selectFrom('mkt_campaign_sends')
      .selectAll()
      .where('campaign_id', '=', c.id)
      .where('status', '=', 'pending')
      .orderBy('id')
      .execute();
    for (const row of pending) {
      if (options.signal?.aborted) {
        report.stopped = true;
        break;
      }
      const holdout = row.grp === 'holdout';
      const ok = await check(c, row.subject_id, holdout);
      if (!ok.ok) {
        if (ok.reason !== 'quiet_hours')
          await db
            .updateTable('mkt_campaign_sends')
            .set({ status: 'excluded', reason: ok.reason })
            .where('id', '=', row.id)
            .where('status', '=', 'pending')
            .execute();
        else
          await db
            .updateTable('mkt_campaign_sends')
            .set({ reason: 'quiet_hours' })
            .where('id', '=', row.id)
            .execute();
        continue;
      }
      if (holdout) {
        await db
          .updateTable('mkt_campaign_sends')
          .set({ status: 'held_out', reason: null })
          .where('id', '=', row.id)
          .where('status', '=', 'pending')
          .execute();
        continue;
      }
      const claimed = await db
        .updateTable('mkt_campaign_sends')
        .set({ status: 'sending', claimed_at: now(), attempts: Number(row.attempts) + 1 })
        .where('id', '=', row.id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1) continue; // another sender has it
      try {
        const d = await deliver(c, row, ok);
        await db
          .updateTable('mkt_campaign_sends')
          .set({ status: 'sent', sent_at: now(), message_id: d.messageId, reason: null })
          .where('id', '=', row.id)
          .execute();
        await deps.audience.logShare({
          recipient: d.recipient,
          purpose: c.purpose,
          categories: d.categories,
          records: 1,
          reason: `campaign ${c.key}`,
          subjectId: row.subject_id,
        });
        report.sent++;
        report.recipients.push(row.subject_id);
      } catch {
        // Nothing was accepted by the relay or the webhook: safe to try again on the next run (3 tries).
        const failed = Number(row.attempts) + 1 >= 3;
        await db
          .updateTable('mkt_campaign_sends')
          .set({ status: failed ? 'excluded' : 'pending', reason: 'send_failed' })
          .where('id', '=', row.id)
          .execute();
      }
    }

    const rows = await db
      .selectFrom('mkt_campaign_sends')
      .select(['grp', 'status', 'reason'])
      .where('campaign_id', '=', c.id)
      .execute();
    report.audience = rows.length;
    let open = 0;
    for (const r of rows) {
      if (r.grp === 'holdout') report.holdout++;
      if (r.status === 'pending' || r.status === 'sending') open++;
      if (r.grp !== 'treatment') continue;
      if (r.status === 'excluded') report.excluded[(r.reason ?? 'send_failed') as ExclusionReason]++;
      if (r.status === 'pending' && r.reason === 'quiet_hours') report.deferred++;
      if (r.status === 'unknown') report.unknown++;
      if (r.status === 'sent') report.alreadySent++;
    }
    report.alreadySent -= report.sent;
    if (open === 0) {
      await db
        .updateTable('mkt_campaigns')
        .set({ status: 'sent', finished_at: now() })
        .where('id', '=', c.id)
        .execute();
    }
    report.status = open === 0 ? 'sent' : 'sending';
    return report;
  }

  return {
    get,
    send,
    suppress,
    unsubscribeToken,
    verifyToken,

    async create(input: CampaignInput): Promise<Campaign> {
      const template = TemplateSchema.safeParse(input.template);
      if (!template.success)
        throw new AppError(
          'invalid_request',
          `The template is not valid: ${template.error.issues.map((i) => i.message).join('; ')}`,
        );
      if (input.channel === 'webhook' && !input.webhookUrl)
        throw new AppError(
          'invalid_request',
          'A webhook campaign needs webhookUrl (https URL of your push gateway).',
        );
      if (input.timeZone !== undefined) {
        try {
          new Intl.DateTimeFormat('en', { timeZone: input.timeZone });
        } catch {
          throw new AppError(
            'invalid_request',
            `Unknown time zone "${input.timeZone}"; use an IANA name such as Asia/Jakarta.`,
          );
        }
      }
      const segment = await deps.segments.get(input.segment);
      const exists = await db
        .selectFrom('mkt_campaigns')
        .select('id')
        .where('key', '=', input.key)
        .executeTakeFirst();
      if (exists)
        throw new AppError('conflict', `A campaign with key "${input.key}" exists; pick another key.`);
      const id = newId('cmp');
      await db
        .insertInto('mkt_campaigns')
        .values({
          id,
          key: input.key,
          name: input.name,
          segment_id: segment.id,
          channel: input.channel,
          template: JSON.stringify(template.data),
          holdout: input.holdout ?? 0,
          cap_count: input.frequencyCap?.count ?? 2,
          cap_days: input.frequencyCap?.days ?? 7,
          quiet_start: input.quietHours?.start ?? null,
          quiet_end: input.quietHours?.end ?? null,
          time_zone: input.timeZone ?? 'UTC',
          webhook_url: input.webhookUrl ?? null,
          window_days: input.conversionWindowDays ?? 7,
          status: 'draft',
          created_at: now(),
          started_at: null,
          finished_at: null,
        })
        .execute();
      return get(id);
    },

    async list(): Promise<Campaign[]> {
      return (await db.selectFrom('mkt_campaigns').selectAll().orderBy('created_at').execute()).map(
        toCampaign,
      );
    },

    /** One-click unsubscribe: effective for the very next send (checked per recipient at send time). */
    async unsubscribe(token: string): Promise<{ channel: Channel }> {
      const t = verifyToken(token);
      if (!t)
        throw new AppError(
          'invalid_request',
          'This unsubscribe link is not valid; use the link from the message.',
        );
      await suppress(await deps.audience.linked(t.subjectId), t.channel, 'unsubscribe');
      return { channel: t.channel };
    },

    /**
     * Conversions (`order_completed`) within the window after the start, treatment (delivered) against the
     * eligible hold-out; a fixed-horizon two-proportion test of the difference.
     */
    async results(idOrKey: string) {
      const c = await get(idOrKey);
      const rows = await db
        .selectFrom('mkt_campaign_sends')
        .select(['subject_id', 'grp', 'status'])
        .where('campaign_id', '=', c.id)
        .where('status', 'in', ['sent', 'held_out'])
        .execute();
      const start = c.startedAt ?? now();
      const end = start + c.conversionWindowDays * DAY;
      const converted = new Set<string>();
      const ids = rows.map((r) => r.subject_id);
      for (let i = 0; i < ids.length; i += 500) {
        const found = await deps.events.db
          .selectFrom('events')
          .select('subject_id')
          .distinct()
          .where('type', '=', 'order_completed')
          .where('ts', '>=', new Date(start))
          .where('ts', '<', new Date(end))
          .where('subject_id', 'in', ids.slice(i, i + 500))
          .execute();
        for (const f of found) converted.add(f.subject_id);
      }
      const arm = (grp: string) => {
        const members = rows.filter((r) => r.grp === grp);
        const conv = members.filter((r) => converted.has(r.subject_id)).length;
        return { n: members.length, conversions: conv, rate: members.length ? conv / members.length : 0 };
      };
      const treatment = arm('treatment');
      const holdout = arm('holdout');
      const comparable = treatment.n >= 2 && holdout.n >= 2;
      const cmp = comparable
        ? compareArms(
            { n: holdout.n, sumY: holdout.conversions, sumY2: holdout.conversions },
            { n: treatment.n, sumY: treatment.conversions, sumY2: treatment.conversions },
            { mode: 'fixed' },
          )
        : null;
      return {
        campaign: c.key,
        window: { from: start, to: end, days: c.conversionWindowDays },
        treatment,
        holdout,
        lift: cmp
          ? {
              absolute: cmp.effect,
              relative: cmp.relativeEffect,
              pValue: cmp.pValue,
              interval: cmp.interval,
            }
          : null,
        warnings: comparable
          ? []
          : ['No hold-out group to compare with: create the campaign with holdout > 0 to measure lift.'],
      };
    },

    async resumeAll(): Promise<number> {
      const open = await db
        .selectFrom('mkt_campaigns')
        .select('id')
        .where('status', '=', 'sending')
        .execute();
      for (const r of open) await send(r.id);
      return open.length;
    },

    async exportSubjects(ids: readonly string[]) {
      if (ids.length === 0) return { sends: [], suppressions: [] };
      return {
        sends: await db
          .selectFrom('mkt_campaign_sends')
          .selectAll()
          .where('subject_id', 'in', [...ids])
          .execute(),
        suppressions: await db
          .selectFrom('mkt_suppressions')
          .selectAll()
          .where('subject_id', 'in', [...ids])
          .execute(),
      };
    },

    async eraseSubjects(ids: readonly string[]): Promise<number> {
      if (ids.length === 0) return 0;
      const a = await db
        .deleteFrom('mkt_campaign_sends')
        .where('subject_id', 'in', [...ids])
        .executeTakeFirst();
      const b = await db
        .deleteFrom('mkt_suppressions')
        .where('subject_id', 'in', [...ids])
        .executeTakeFirst();
      return Number(a.numDeletedRows) + Number(b.numDeletedRows);
    },

    close(): void {
      mailer?.close();
      mailer = null;
    },
  };
}

export type CampaignsService = ReturnType<typeof createCampaignsService>;
