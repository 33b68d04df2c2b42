/**
 * Reads a shop's interaction export (CSV/TSV, optionally gzipped, header row required) into dense ids.
 * Columns are named by the caller, so any export works: `user=…,item=…[,time=…][,session=…][,type=…]
 * [,weight=…][,title=…]`.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { AppError } from '../../../kernel/errors.ts';

export const COLUMN_ROLES = ['user', 'item', 'time', 'session', 'type', 'weight', 'title'] as const;
export type ColumnRole = (typeof COLUMN_ROLES)[number];
export type ColumnMap = Partial<Record<ColumnRole, string>>;

/** Weights of common event-type names (DESIGN §5 names and those of public data sets). */
export const EVENT_TYPE_WEIGHTS: Record<string, number> = {
  page_view: 0.5,
  product_view: 1,
  view: 1,
  click: 1,
  search_click: 1.5,
  add_to_cart: 3,
  addtocart: 3,
  cart: 3,
  checkout_started: 4,
  order_completed: 5,
  purchase: 5,
  transaction: 5,
  buy: 5,
  review_submitted: 4,
  remove_from_cart: 0,
};

export type RawEvent = {
  user: string;
  item: string;
  time: number;
  session: string | null;
  weight: number;
  title: string | null;
};

export function parseColumns(spec: string): ColumnMap {
  const map: ColumnMap = {};
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    const role = part.slice(0, eq).trim() as ColumnRole;
    const column = part.slice(eq + 1).trim();
    if (eq < 1 || !column || !COLUMN_ROLES.includes(role))
      throw new AppError(
        'invalid_request',
        `--columns: "${part}" is not ROLE=COLUMN with ROLE one of ${COLUMN_ROLES.join(', ')} (e.g. user=CustomerID,item=StockCode).`,
      );
    map[role] = column;
  }
  if (!map.item) throw new AppError('invalid_request', '--columns needs item=COLUMN.');
  if (!map.user && !map.session)
    throw new AppError('invalid_request', '--columns needs user=COLUMN or session=COLUMN.');
  return map;
}

/** Splits one delimited line, honouring double quotes ("" escapes a quote). */
export function splitLine(line: string, sep: string): string[] {
  if (!line.includes('"')) return line.split(sep);
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (line.startsWith(sep, i)) {
      out.push(cur);
      cur = '';
      i += sep.length - 1;
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Epoch ms from unix seconds, unix ms or an ISO-like date ("2011-12-09 12:50:00"). */
export function parseTime(value: string): number {
  const v = value.trim();
  if (v === '') return NaN;
  const n = Number(v);
  if (Number.isFinite(n)) return n < 1e11 ? n * 1000 : n;
  return Date.parse(
    /^\d{4}-\d\d-\d\d \d/.test(v) ? v.replace(' ', 'T') + (v.length <= 16 ? ':00' : '') + 'Z' : v,
  );
}

/** `header: false` reads files without a header row; columns are then 1-based positions (`user=1`). */
export type LoadOptions = { sep?: string; columns: ColumnMap; header?: boolean };

export async function loadInteractions(
  file: string,
  options: LoadOptions,
): Promise<{ events: RawEvent[]; skipped: number }> {
  const raw = createReadStream(file);
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  const lines = createInterface({ input, crlfDelay: Infinity });
  const failed = new Promise<never>((_, reject) => {
    const fail = (e: Error) =>
      reject(
        new AppError(
          'invalid_request',
          `Cannot read ${file}: ${e.message}. Check the path (and that .gz files are gzip).`,
          { cause: e },
        ),
      );
    raw.on('error', fail);
    input.on('error', fail);
  });
  failed.catch(() => undefined);
  const events: RawEvent[] = [];
  let skipped = 0;
  let index: Record<ColumnRole, number> | null = null;
  let sep = options.sep;
  const read = async () => {
    let seq = 0;
    for await (const line of lines) {
      if (line.trim() === '') continue;
      if (!index) {
        const header = line.replace(/^\uFEFF/, '');
        sep ??= header.includes('\t') ? '\t' : header.includes(';') && !header.includes(',') ? ';' : ',';
        const fields = splitLine(header, sep).map((h) => h.trim());
        const names = options.header === false ? fields.map((_, x) => String(x + 1)) : fields;
        const idx = {} as Record<ColumnRole, number>;
        for (const role of COLUMN_ROLES) {
          const col = options.columns[role];
          idx[role] = col === undefined ? -1 : names.indexOf(col);
          if (col !== undefined && idx[role] < 0)
            throw new AppError(
              'invalid_request',
              `${file} has no column "${col}" (for ${role}); its header is: ${names.join(', ')}. Pass --sep if the separator is not detected.`,
            );
        }
        index = idx;
        if (options.header !== false) continue;
      }
      const f = splitLine(line, sep!);
      const get = (role: ColumnRole) => (index![role] >= 0 ? (f[index![role]] ?? '').trim() : null);
      const session = get('session');
      const user = get('user') ?? session ?? '';
      const item = get('item') ?? '';
      const timeText = get('time');
      const time = timeText === null ? seq : parseTime(timeText);
      seq++;
      let weight = 1;
      const w = get('weight');
      if (w !== null) weight = Number(w);
      const type = get('type');
      if (type !== null) weight *= EVENT_TYPE_WEIGHTS[type.toLowerCase()] ?? 1;
      if (!user || !item || !Number.isFinite(time) || !(weight > 0)) {
        skipped++;
        continue;
      }
      events.push({ user, item, time, session: session || null, weight, title: get('title') });
    }
    if (!index)
      throw new AppError('invalid_request', `${file} is empty; it needs a header row and data rows.`);
  };
  await Promise.race([read(), failed]);
  return { events, skipped };
}
