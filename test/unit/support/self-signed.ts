import { execFileSync } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throw-away self-signed certificate for `privateKey`, made with the openssl command line. `altName`
 * (e.g. `IP:127.0.0.1`) makes it one a TLS client accepts for that host once it trusts it as a CA.
 */
export function selfSignedPem(
  privateKey: KeyObject,
  _publicKey?: KeyObject,
  options: { commonName?: string; altName?: string } = {},
): string {
  const dir = mkdtempSync(join(tmpdir(), 'asc-cert-'));
  const keyFile = join(dir, 'key.pem');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const args = ['req', '-x509', '-new', '-key', keyFile, '-subj', `/CN=${options.commonName ?? 'sns.test'}`];
  if (options.altName) args.push('-addext', `subjectAltName=${options.altName}`);
  return execFileSync('openssl', [...args, '-days', '1'], { encoding: 'utf8' });
}
