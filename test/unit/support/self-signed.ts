import { execFileSync } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throw-away self-signed certificate for `privateKey`, made with the openssl command line. */
export function selfSignedPem(privateKey: KeyObject, _publicKey?: KeyObject): string {
  const dir = mkdtempSync(join(tmpdir(), 'asc-cert-'));
  const keyFile = join(dir, 'key.pem');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return execFileSync(
    'openssl',
    ['req', '-x509', '-new', '-key', keyFile, '-subj', '/CN=sns.test', '-days', '1'],
    {
      encoding: 'utf8',
    },
  );
}
