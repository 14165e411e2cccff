// The error value selector parsing returns: an Error carrying the 400 Status the API server answers with.
import type { Status } from './meta.js';
import { badRequest } from './status-errors.js';

export class SelectorParseError extends Error {
  readonly status: Status;
  constructor(message: string) {
    super(message);
    this.name = 'SelectorParseError';
    this.status = badRequest(message);
  }
}
