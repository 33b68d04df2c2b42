/**
 * A minimal POSIX ustar writer: an export bundle is one file any archive tool opens (export.json plus one
 * CSV per table), with no dependency and nothing written to disk on the way.
 */
const BLOCK = 512;

function header(name: string, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  const nameBytes = Buffer.from(name, 'utf8');
  if (nameBytes.length > 100) throw new Error(`tar entry name too long: ${name}`);
  nameBytes.copy(h, 0);
  h.write('0000644\0', 100, 'ascii');
  h.write('0000000\0', 108, 'ascii');
  h.write('0000000\0', 116, 'ascii');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
  h.write(
    `${Math.floor(mtime / 1000)
      .toString(8)
      .padStart(11, '0')}\0`,
    136,
    'ascii',
  );
  h.write('        ', 148, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

export function writeTar(
  entries: readonly { name: string; content: string | Buffer }[],
  mtime: number,
): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.isBuffer(e.content) ? e.content : Buffer.from(e.content, 'utf8');
    parts.push(header(e.name, body.length, mtime), body);
    const pad = (BLOCK - (body.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad, 0));
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0));
  return Buffer.concat(parts);
}

/** Reads entries back (tests, and `candor dsar` inspecting a bundle). */
export function readTar(buf: Buffer): { name: string; content: Buffer }[] {
  const out: { name: string; content: Buffer }[] = [];
  let off = 0;
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(h.subarray(124, 136).toString('ascii').replace(/\0.*$/s, '').trim(), 8);
    out.push({ name, content: Buffer.from(buf.subarray(off + BLOCK, off + BLOCK + size)) });
    off += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return out;
}

/** RFC 4180 CSV of rows; the header is the union of the rows' keys. Objects are written as JSON. */
export function toCsv(rows: readonly Record<string, unknown>[]): string {
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    const s = typeof v === 'string' ? v : typeof v === 'bigint' ? v.toString() : (JSON.stringify(v) ?? '');
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return (
    [cols.map(cell).join(','), ...rows.map((r) => cols.map((c) => cell(r[c])).join(','))].join('\r\n') +
    '\r\n'
  );
}

/** An export: the JSON document and one CSV per table, keyed by file name (`profiles/pii_vault.csv`). */
export type ExportBundle = {
  generatedAt: number;
  document: Record<string, unknown>;
  csv: Record<string, string>;
};

export function bundleToTar(bundle: ExportBundle): Buffer {
  return writeTar(
    [
      { name: 'export.json', content: JSON.stringify(bundle.document, null, 2) },
      ...Object.entries(bundle.csv).map(([name, content]) => ({ name: `csv/${name}`, content })),
    ],
    bundle.generatedAt,
  );
}
