import { z } from 'zod';

/**
 * TLS towards a SIEM endpoint. Verification stays on unless a user turns it off on purpose; `caFile` adds
 * a private CA; `certFile` and `keyFile` (PEM) present a client certificate to servers that require one
 * (Splunk HEC with `requireClientCert`, Elasticsearch's PKI realm, OpenSearch's client-certificate auth).
 */
export const tlsConfigSchema = z
  .strictObject({
    rejectUnauthorized: z.boolean().default(true),
    caFile: z.string().min(1).optional(),
    certFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
  })
  .refine((tls) => (tls.certFile === undefined) === (tls.keyFile === undefined), {
    message: 'a client certificate needs both certFile and keyFile',
    path: ['keyFile'],
  })
  .prefault({});
export type TlsConfig = z.infer<typeof tlsConfigSchema>;

/** Node/undici TLS options from the config, each file read by `read` (which names the key when it fails). */
export function tlsOptions(
  tls: TlsConfig,
  read: (key: 'caFile' | 'certFile' | 'keyFile', file: string) => string,
): { rejectUnauthorized: boolean; ca?: string; cert?: string; key?: string } {
  return {
    rejectUnauthorized: tls.rejectUnauthorized,
    ...(tls.caFile ? { ca: read('caFile', tls.caFile) } : {}),
    ...(tls.certFile ? { cert: read('certFile', tls.certFile) } : {}),
    ...(tls.keyFile ? { key: read('keyFile', tls.keyFile) } : {}),
  };
}
