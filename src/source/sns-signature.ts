import { createVerify, X509Certificate } from 'node:crypto';
import { request } from 'undici';
import { proxyDispatcherFor } from '../network/index.js';
import { NotificationError, type SnsVerifier } from './notifications.js';

/** Only certificates served by SNS itself are trusted; anything else could be an attacker's. */
const SNS_CERT_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

export type CertificateFetcher = (url: string) => Promise<string>;

async function fetchCertificate(url: string): Promise<string> {
  const dispatcher = proxyDispatcherFor(url);
  const res = await request(url, {
    maxRedirections: 0,
    ...(dispatcher ? { dispatcher } : {}),
  } as Parameters<typeof request>[1]);
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new NotificationError(`SNS signing certificate ${url} answered HTTP ${res.statusCode}`);
  }
  return res.body.text();
}

/**
 * Verifies SNS message signatures (SignatureVersion 1 = SHA1, 2 = SHA256) as AWS documents them. A bad
 * signature throws: the message is left for the DLQ, never deleted and never processed.
 */
export function createSnsVerifier(
  options: { fetchCertificate?: CertificateFetcher; trustHost?: (host: string) => boolean } = {},
): SnsVerifier {
  const fetcher = options.fetchCertificate ?? fetchCertificate;
  const trusted = options.trustHost ?? ((host: string) => SNS_CERT_HOST.test(host));
  const certificates = new Map<string, Promise<string>>();

  return async (envelope) => {
    const certUrl = String(envelope.SigningCertURL ?? envelope.SigningCertUrl ?? '');
    let url: URL;
    try {
      url = new URL(certUrl);
    } catch {
      throw new NotificationError(`SNS envelope has no valid SigningCertURL: ${certUrl}`);
    }
    if (url.protocol !== 'https:' || !trusted(url.hostname)) {
      throw new NotificationError(`SNS SigningCertURL is not an SNS host: ${url.hostname}`);
    }
    let pem = certificates.get(certUrl);
    if (!pem) {
      // SNS signs with a handful of certificates; bounded all the same, whatever URLs messages name.
      if (certificates.size >= 64) certificates.clear();
      pem = fetcher(certUrl);
      certificates.set(certUrl, pem);
      pem.catch(() => certificates.delete(certUrl));
    }
    const cert = new X509Certificate(await pem);
    const algorithm = String(envelope.SignatureVersion) === '2' ? 'RSA-SHA256' : 'RSA-SHA1';
    const verifier = createVerify(algorithm);
    verifier.update(stringToSign(envelope));
    if (!verifier.verify(cert.publicKey, String(envelope.Signature ?? ''), 'base64')) {
      throw new NotificationError(`SNS signature does not verify for message ${String(envelope.MessageId)}`);
    }
  };
}

/** The canonical string SNS signs for a Notification: selected keys in order, each `key\nvalue\n`. */
export function stringToSign(envelope: Record<string, unknown>): string {
  const keys = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'];
  let out = '';
  for (const key of keys) {
    const value = envelope[key];
    if (value === undefined || value === null) continue;
    out += `${key}\n${String(value)}\n`;
  }
  return out;
}
