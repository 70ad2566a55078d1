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
