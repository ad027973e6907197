import { describe, expect, it } from 'vitest';
import { AppError } from '../platform/errors/catalog.js';
import { checkPassword, isCommonPassword } from './passwords.js';

const who = { login: 'jasur.karimov', displayName: 'Jasur Karimov' };

function reasonOf(pw: string, w = who): string | null {
  try {
    checkPassword(pw, w);
    return null;
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    expect(err.code).toBe('PASSWORD_WEAK');
    expect(err.field).toBe('password');
    return err.details?.reason as string;
  }
}

describe('checkPassword (NIST SP 800-63B)', () => {
  it('accepts a long, uncommon passphrase with no composition rules', () => {
    expect(reasonOf('tramvay yonida yashil choynak')).toBeNull();
    expect(reasonOf('all lower case words here')).toBeNull();
  });

  it('counts characters, not bytes: 12 code points are enough, 11 are not', () => {
    expect(reasonOf('ёлка-ёлка-ёл')).toBeNull(); // 12 code points, 21 bytes
    expect(reasonOf('ёлка-ёлка-ё')).toBe('too_short');
    expect(reasonOf('🚗🚕🚙🚌🚎🏎🚓🚑🚒🚐🛻🚚')).toBeNull();
  });

  it('refuses short and over-long passwords', () => {
    expect(reasonOf('')).toBe('too_short');
    expect(reasonOf('Tr0ub4dor&3')).toBe('too_short');
    expect(reasonOf('x'.repeat(257))).toBe('too_long');
    expect(reasonOf('xy'.repeat(128))).toBeNull();
  });

  it('refuses well-known passwords, whatever their case', () => {
    for (const pw of ['passwordpassword', 'PasswordPassword', '1qaz2wsx3edc', 'QWERTYUIOPASDFGH'])
      expect(reasonOf(pw), pw).toBe('common');
    expect(isCommonPassword('password')).toBe(true);
    expect(isCommonPassword('tramvay yonida yashil choynak')).toBe(false);
  });

  it('refuses a password containing the login or a word of the name', () => {
    expect(reasonOf('my-jasur.karimov-2026')).toBe('contains_login');
    expect(reasonOf('KARIMOV is my surname')).toBe('contains_login');
    expect(reasonOf('ab1 is short login but fine', { login: 'ab1', displayName: 'Al' })).toBe(
      'contains_login',
    );
    expect(reasonOf('nothing personal at all', { login: 'ab', displayName: 'Al Bo' })).toBeNull();
  });
});
