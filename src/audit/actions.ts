/** Kept free of Node and Fastify imports: the web app derives its types from the audit schemas. */
/** Every kind of staff action the audit log records; stored as text in audit_log.action. */
export type AuditAction =
  | 'sign_in'
  | 'sign_in_failed'
  | 'sign_out'
  | 'session_revoked'
  | 'refresh_reused'
  | 'totp_enrolled'
  | 'totp_failed'
  | 'totp_removed'
  | 'recovery_code_used'
  | 'password_set'
  | 'password_changed'
  | 'password_link_created'
  | 'staff_created'
  | 'staff_updated'
  | 'staff_disabled'
  | 'staff_enabled'
  | 'role_changed'
  | 'sign_in_unlocked'
  | 'totp_reset'
  | 'unit_created'
  | 'unit_updated'
  | 'review_claimed'
  | 'review_decision'
  | 'review_released'
  | 'review_reassigned'
  | 'evidence_viewed'
  | 'evidence_redacted'
  | 'penalty_points_set'
  | 'appeal_claimed'
  | 'appeal_released'
  | 'appeal_decided'
  | 'export'
  | 'dead_letter_retried'
  | 'dead_letter_discarded';

export const AUDIT_ACTIONS: readonly AuditAction[] = [
  'sign_in',
  'sign_in_failed',
  'sign_out',
  'session_revoked',
  'refresh_reused',
  'totp_enrolled',
  'totp_failed',
  'totp_removed',
  'recovery_code_used',
  'password_set',
  'password_changed',
  'password_link_created',
  'staff_created',
  'staff_updated',
  'staff_disabled',
  'staff_enabled',
  'role_changed',
  'sign_in_unlocked',
  'totp_reset',
  'unit_created',
  'unit_updated',
  'review_claimed',
  'review_decision',
  'review_released',
  'review_reassigned',
  'evidence_viewed',
  'evidence_redacted',
  'penalty_points_set',
  'appeal_claimed',
  'appeal_released',
  'appeal_decided',
  'export',
  'dead_letter_retried',
  'dead_letter_discarded',
];
