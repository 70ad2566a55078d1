import { AbortedError, IceTcpError, TurnError } from '../errors.js';

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

/** Whatever escaped from a step, as an {@link IceTcpError} (unknown throwables are wrapped, never leaked raw). */
export function asIceTcpError(err: unknown, what: string): IceTcpError {
  if (err instanceof IceTcpError) return err;
  return new TurnError(
    `${what}: ${err instanceof Error ? err.message : String(err)}`,
    undefined,
    'ERR_TURN',
    {
      cause: err,
    },
  );
}

/** The error an aborted signal stands for: its reason when that is ours, an {@link AbortedError} otherwise. */
export function abortReason(signal: AbortSignal): IceTcpError {
  const reason: unknown = signal.reason;
  if (reason instanceof IceTcpError) return reason;
  return new AbortedError(undefined, { cause: reason });
}
