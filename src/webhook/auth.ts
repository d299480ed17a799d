import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Compares a presented secret with the expected one in constant time. Both sides are hashed first so
 * the buffers always have equal length: timingSafeEqual throws on unequal lengths, and an early return
 * on length would leak it.
 */
export function secretEquals(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** `Authorization: Bearer <token>` → the token, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Hex HMAC-SHA256 over `timestamp.body`, the string a sender signs for /alerts/generic. */
export function signBody(secret: string, timestamp: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** Accepts `sha256=<hex>` or bare hex. */
export function verifySignature(secret: string, timestamp: string, body: Buffer, presented: string): boolean {
  const hex = presented.startsWith('sha256=') ? presented.slice(7) : presented;
  return secretEquals(hex.toLowerCase(), signBody(secret, timestamp, body));
}

/**
 * Remembers signatures accepted within the replay window; a second request with the same signature is
 * a replay. Entries older than the window are dropped (the timestamp check refuses them anyway), so the
 * memory is bounded by the rate limit times the window.
 */
export class ReplayGuard {
  readonly #windowMs: number;
  readonly #seen = new Map<string, number>();

  constructor(windowSeconds: number) {
    this.#windowMs = windowSeconds * 1000;
  }

  /** True the first time a signature is seen within the window. */
  firstSeen(signature: string, now: number): boolean {
    for (const [sig, at] of this.#seen) {
      if (at > now - this.#windowMs) break;
      this.#seen.delete(sig);
    }
    if (this.#seen.has(signature)) return false;
    this.#seen.set(signature, now);
    return true;
  }
}
