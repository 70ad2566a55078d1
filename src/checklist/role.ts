import type { IceRole } from '../candidate/types.js';

/** The role attributes of an incoming Binding request (RFC 8445 §7.1.3). */
export interface RoleAttributes {
  iceControlling?: bigint;
  iceControlled?: bigint;
}

/** What RFC 8445 §7.3.1.1 tells the receiver of a check to do about roles. */
export type RoleConflictVerdict = 'no-conflict' | 'switch-role' | 'reject-487';

/** The other role. */
export function oppositeRole(role: IceRole): IceRole {
  return role === 'controlling' ? 'controlled' : 'controlling';
}

/**
 * RFC 8445 §7.3.1.1: when both agents claim the same role, the larger tie-breaker keeps (or takes) the
 * controlling role. The agent that must move either switches itself or, as the receiver, answers 487 so the
 * sender switches.
 */
export function resolveRoleConflict(
  ourRole: IceRole,
  ourTieBreaker: bigint,
  request: RoleAttributes,
): RoleConflictVerdict {
  if (ourRole === 'controlling' && request.iceControlling !== undefined) {
    return ourTieBreaker >= request.iceControlling ? 'reject-487' : 'switch-role';
  }
  if (ourRole === 'controlled' && request.iceControlled !== undefined) {
    return ourTieBreaker >= request.iceControlled ? 'switch-role' : 'reject-487';
  }
  return 'no-conflict';
}

/**
 * RFC 8445 §7.2.5.1: a 487 answer means "take the other role than the one your request claimed", unless an
 * incoming check has already made us switch since that request went out.
 */
export function shouldSwitchOn487(roleWhenSent: IceRole, currentRole: IceRole): boolean {
  return roleWhenSent === currentRole;
}

/** What decides an agent's first role (RFC 8445 §6.1.1). */
export interface RoleInputs {
  /** This agent is ice-lite. */
  localLite: boolean;
  /** The peer said `a=ice-lite` (known once its parameters arrived). */
  remoteLite: boolean;
  /** The role the application fixed, if any. */
  configured: IceRole | undefined;
  /** This agent produced its description before it had the peer's: the initiating agent. */
  offerer: boolean;
}

/**
 * RFC 8445 §6.1.1: a lite agent is always controlled; a full agent facing a lite one takes the controlling
 * role whatever it was configured with (the lite peer sends no checks and nominates nothing); between two full
 * agents the configured role, else the initiating agent, controls.
 */
export function initialRole(inputs: RoleInputs): IceRole {
  if (inputs.localLite) return 'controlled';
  if (inputs.remoteLite) return 'controlling';
  return inputs.configured ?? (inputs.offerer ? 'controlling' : 'controlled');
}

/**
 * RFC 8445 §7.3.1.1 for a lite agent, which can only be controlled: it never switches. A peer that claims
 * ICE-CONTROLLED too is answered 487 whatever the tie-breakers say, so the full peer takes the controlling role
 * (§6.1.1: the full agent MUST control); ICE-CONTROLLING is no conflict.
 */
export function resolveLiteRoleConflict(request: RoleAttributes): RoleConflictVerdict {
  return request.iceControlled !== undefined ? 'reject-487' : 'no-conflict';
}
