/**
 * What the auth module needs from elsewhere, declared here so it never imports another module's files.
 * The composition root passes the audit module's writer.
 */
export type AuditRecord = {
  actor: string;
  action: string;
  target?: string | null;
  purpose?: string | null;
  outcome: 'success' | 'failure' | 'denied';
  details?: Record<string, string | number | boolean | null>;
};

export type AuditWriter = { record(entry: AuditRecord): Promise<void> };
