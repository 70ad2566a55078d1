import type { IceRole, TcpType } from '../candidate/types.js';
import { initialRole } from '../checklist/index.js';
import { IceFailedError, InvalidArgumentError } from '../errors.js';
import type { IceParameters } from './credentials.js';

/** The agent options lite constrains (structurally: options.ts imports this file). */
interface LiteOptionFields {
  lite?: unknown;
  tcpTypes?: readonly string[];
  stunServers?: readonly unknown[];
  turnServers?: readonly unknown[];
  forceRelay?: boolean;
  role?: string;
}

/**
 * ice-lite (RFC 8445 §2.5) over TCP (RFC 6544): the agent only listens. Its candidates are passive host ones,
 * it gathers nothing from servers, sends no checks and is always controlled. An option that asks for anything
 * else is refused here, naming it, rather than silently ignored.
 */
export function checkLiteOptions(options: LiteOptionFields): void {
  if (options.lite === undefined) return;
  if (typeof options.lite !== 'boolean') throw new InvalidArgumentError('lite must be a boolean');
  if (!options.lite) return;
  const refuse = (option: string, why: string): never => {
    throw new InvalidArgumentError(`${option} cannot be used with lite: ${why}`);
  };
  if (options.tcpTypes?.some((t) => t !== 'passive'))
    refuse('tcpTypes', 'a lite agent has passive host candidates only (it never dials)');
  if (options.stunServers?.length) refuse('stunServers', 'a lite agent gathers host candidates only');
  if (options.turnServers?.length) refuse('turnServers', 'a lite agent gathers host candidates only');
  if (options.forceRelay) refuse('forceRelay', 'a lite agent gathers host candidates only');
  if (options.role === 'controlling')
    refuse('role', "a lite agent is always controlled (RFC 8445 §6.1.1); leave role unset or 'controlled'");
}

/** The option values lite implies: passive candidates only, the controlled role. */
export function liteDefaults(options: LiteOptionFields): { tcpTypes?: TcpType[]; role?: IceRole } {
  return options.lite ? { tcpTypes: ['passive'], role: 'controlled' } : {};
}

/** `{ lite: true }` for a lite agent's parameters (the JSON message's flag), nothing for a full one. */
export function liteFlag(options: { lite: boolean }): { lite?: true } {
  return options.lite ? { lite: true } : {};
}

/**
 * Two lite agents cannot connect over TCP: RFC 8445 §6.1.1 says that neither sends a check then, and over
 * ICE-TCP both have passive candidates only (RFC 6544), which never pair with each other, so neither side would
 * ever open a connection. Refused at once rather than left to time out.
 */
export function litePeerRefusal(localLite: boolean, remote: IceParameters): IceFailedError | undefined {
  if (!localLite || !remote.lite) return undefined;
  return new IceFailedError(
    'both agents are ice-lite: over TCP neither opens a connection (RFC 8445 §6.1.1, RFC 6544); one side must be a full agent',
  );
}

/** The role a generation's checklist starts with (RFC 8445 §6.1.1, see `initialRole`); `offerer`: we spoke first. */
export function firstRole(
  options: { lite: boolean; role?: IceRole },
  remote: IceParameters | undefined,
  offerer: boolean,
): IceRole {
  return initialRole({
    localLite: options.lite,
    remoteLite: remote?.lite === true,
    configured: options.role,
    offerer,
  });
}
