import type { Role } from '../auth/tokens.js';

/** Who works the review queue. */
export const REVIEWERS = ['inspector', 'supervisor', 'admin'] as const satisfies readonly Role[];
/** Who may reassign reports and see the workload and the evidence audit. */
export const SUPERVISORS = ['supervisor', 'admin'] as const satisfies readonly Role[];
