import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

/** Purpose-bound keys derived from the one JARIMA_SECRET, so one leaked use does not expose the others. */
export interface Keys {
  token: Buffer;
  phoneHash: Buffer;
  phoneEnc: Buffer;
  otp: Buffer;
  /** Signs the short-lived sign-in challenge between the password and the second factor. */
  challenge: Buffer;
  /** Encrypts staff TOTP secrets at rest. */
  totpEnc: Buffer;
  /** Signs a driver's access to one case (src/driver/case-token.ts). */
  caseToken: Buffer;
}

export function deriveKeys(secret: string): Keys {
  const derive = (purpose: string) => Buffer.from(hkdfSync('sha256', secret, 'jarima', purpose, 32));
  return {
    token: derive('token'),
    phoneHash: derive('phone-hash'),
    phoneEnc: derive('phone-enc'),
    otp: derive('otp'),
    challenge: derive('sign-in-challenge'),
    totpEnc: derive('totp-enc'),
    caseToken: derive('case-token'),
  };
}

export function hmac(key: Buffer, ...parts: (string | Buffer)[]): Buffer {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p).update('\0');
  return h.digest();
}

export function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** AES-256-GCM: iv (12) ‖ tag (16) ‖ ciphertext. */
export function encrypt(key: Buffer, plaintext: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

export function decrypt(key: Buffer, sealed: Buffer): string {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAuthTag(sealed.subarray(12, 28));
  return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8');
}
