/** The orders module's errors: codes from the kernel table, messages that say what to do next. */
import { AppError } from '../../kernel/errors.ts';

export function orderNotFound(): AppError {
  return new AppError('not_found', 'No such order; list orders with GET /v1/orders to find its id.');
}

export function badCursor(): AppError {
  return new AppError('invalid_request', 'The cursor is not one this API returned; start again without it.');
}
