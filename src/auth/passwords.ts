import { readFileSync } from 'node:fs';
import { AppError } from '../platform/errors/catalog.js';

/** NIST SP 800-63B §5.1.1.2: length and a blocklist, no composition rules. Lengths count code points. */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

export type WeakPasswordReason = 'too_short' | 'too_long' | 'common' | 'contains_login';

const LIST = new URL('./data/common-passwords.txt', import.meta.url);

// ~93k entries (1 MB): read on the first password check, not at start-up, and kept.
let common: Set<string> | undefined;
function commonPasswords(): Set<string> {
  common ??= new Set(readFileSync(LIST, 'utf8').split('\n').filter(Boolean));
  return common;
}

/** Whether `password` is on the shipped common/breached list (src/auth/data/NOTICE), case-insensitively. */
export function isCommonPassword(password: string): boolean {
  return commonPasswords().has(password.toLowerCase());
}

const weak = (reason: WeakPasswordReason) =>
  new AppError('PASSWORD_WEAK', { field: 'password', details: { reason } });

/**
 * Refuses a password a guesser would try early: shorter than 12 or longer than 256 characters, on the common list,
 * or containing the account's login or display name (or a word of it of 4+ characters). Throws PASSWORD_WEAK with
 * `details.reason`.
 */
export function checkPassword(password: string, who: { login: string; displayName?: string }): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) throw weak('too_short');
  if (length > PASSWORD_MAX_LENGTH) throw weak('too_long');
  const lower = password.toLowerCase();
  if (isCommonPassword(password) || isCommonPassword(password.trim())) throw weak('common');
  const names = [who.login, ...(who.displayName ?? '').split(/[\s.,_-]+/)]
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s.length >= 4 || (s === who.login.trim().toLowerCase() && s.length >= 3));
  if (names.some((n) => lower.includes(n))) throw weak('contains_login');
}
