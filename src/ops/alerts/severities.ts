/** Alert severities, most urgent first. Kept free of Node imports: the web app derives its types from them. */
export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];
