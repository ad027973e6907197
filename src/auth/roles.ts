/** Who a token speaks for. Kept free of Node imports: the web app derives its types from the auth schemas. */
export const ROLES = ['citizen', 'inspector', 'supervisor', 'admin'] as const;
export type Role = (typeof ROLES)[number];
