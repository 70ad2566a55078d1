import { TurnError } from '../errors.js';

/** Maps a TURN error response (RFC 8656 §19, RFC 6062 §6.3) to a typed {@link TurnError}. */
export function turnErrorFor(what: string, code: number, reason: string): TurnError {
  const text = `${what} failed: ${code} ${reason}`.trim();
  switch (code) {
    case 401:
      return new TurnError(`${text} (wrong username or password?)`, code, 'ERR_TURN_AUTH');
    case 486: // Allocation Quota Reached
    case 508: // Insufficient Capacity
      return new TurnError(text, code, 'ERR_TURN_CAPACITY');
    case 446: // Connection Already Exists
    case 447: // Connection Timeout or Failure
      return new TurnError(text, code, 'ERR_TURN_CONNECTION');
    default:
      return new TurnError(text, code, 'ERR_TURN');
  }
}
