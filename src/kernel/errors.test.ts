import { describe, expect, it } from 'vitest';
import { AppError, ERROR_STATUS, errorBody, hasCode, isAppError, statusOf } from './errors.ts';

describe('errors', () => {
  it('maps every code to a 4xx or 5xx status', () => {
    for (const status of Object.values(ERROR_STATUS)) expect(status >= 400 && status < 600).toBe(true);
    expect(statusOf('invalid_json')).toBe(400);
    expect(statusOf('payload_too_large')).toBe(413);
  });

  it('is recognised by code, also across realms (a plain object with the same shape)', () => {
    const e = new AppError('not_found', 'No such product.');
    expect(isAppError(e)).toBe(true);
    expect(hasCode(e, 'not_found')).toBe(true);
    expect(isAppError({ name: 'AppError', code: 'not_found', message: 'x' })).toBe(true);
    expect(isAppError(new Error('x'))).toBe(false);
    expect(isAppError({ name: 'AppError', code: 'made_up' })).toBe(false);
  });

  it('renders the one error body shape', () => {
    expect(errorBody(new AppError('forbidden', 'No.'), 'req-1')).toEqual({
      error: { code: 'forbidden', message: 'No.', requestId: 'req-1' },
    });
  });
});
