import { AppError } from '../platform/errors/catalog.js';

/**
 * Normalises an Uzbek mobile number to E.164 (+998 and nine digits). Accepts the forms people type:
 * "+998 90 123-45-67", "998901234567", "(90) 123 45 67".
 */
export function normalisePhone(input: string): string {
  const digits = input.replace(/[\s()\-.]/g, '').replace(/^\+/, '');
  const national = digits.length === 9 ? digits : digits.startsWith('998') ? digits.slice(3) : '';
  if (!/^\d{9}$/.test(national)) {
    throw new AppError('VALIDATION_FAILED', {
      field: 'phone',
      message: 'phone: expected an Uzbek number, +998 followed by 9 digits',
    });
  }
  return `+998${national}`;
}

/** "+998901234567" → "+998 90 *** ** 67": enough for a person to recognise, not to contact. */
export function maskPhone(e164: string): string {
  return `${e164.slice(0, 4)} ${e164.slice(4, 6)} *** ** ${e164.slice(-2)}`;
}
