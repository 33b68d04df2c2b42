/**
 * The one way the web apps talk to Candor: same-origin JSON over fetch. Staff calls ride on the session
 * cookie and send the CSRF token with every write; shopper calls send the shopper token as a Bearer.
 * Every failure becomes an ApiError carrying Candor's error code and its message (which says what to do).
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | undefined;
  constructor(status: number, code: string, message: string, requestId?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

type ErrorBody = { error?: { code?: string; message?: string; requestId?: string } };

export type ApiClient = {
  get<T>(path: string, query?: Record<string, string | number | undefined>): Promise<T>;
  send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T>;
  /** The raw response (downloads). */
  raw(path: string): Promise<Response>;
};

export function withQuery(path: string, query?: Record<string, string | number | undefined>): string {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

async function parse<T>(res: Response, onUnauthorized?: () => void): Promise<T> {
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    if (res.status === 401) onUnauthorized?.();
    const e = (body as ErrorBody | undefined)?.error;
    throw new ApiError(
      res.status,
      e?.code ?? 'http_error',
      e?.message ?? `The server answered ${res.status}. Retry, or check that Candor is running.`,
      e?.requestId,
    );
  }
  return body as T;
}

/** `onUnauthorized`: the session ended (idle timeout, signed out elsewhere); the app shows sign-in again. */
export function createApiClient(
  headers: () => Record<string, string>,
  onUnauthorized?: () => void,
): ApiClient {
  return {
    get: async <T>(path: string, query?: Record<string, string | number | undefined>) =>
      parse<T>(
        await fetch(withQuery(path, query), {
          credentials: 'same-origin',
          headers: { Accept: 'application/json', ...headers() },
        }),
        onUnauthorized,
      ),
    send: async <T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown) =>
      parse<T>(
        await fetch(path, {
          method,
          credentials: 'same-origin',
          headers: {
            Accept: 'application/json',
            ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
            ...headers(),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }),
        onUnauthorized,
      ),
    raw: async (path: string) => {
      const res = await fetch(path, { credentials: 'same-origin', headers: headers() });
      if (!res.ok) await parse(res, onUnauthorized);
      return res;
    },
  };
}
