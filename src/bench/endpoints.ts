import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Where the bench sends data. Each part runs only when the services it needs are given. */
export interface BenchEndpoints {
  /** An S3 + SQS endpoint (moto, or LocalStack); also WAFv2 for the alert-to-block latency. */
  moto?: string;
  /** An OpenSearch node. */
  search?: string;
  hec?: { url: string; token: string };
}

export interface EndpointOptions {
  moto?: string;
  search?: string;
  hec?: string;
  hecToken?: string;
  /** Read the endpoints the project's test services wrote (`npm run services -- up`) for those not given. */
  services?: boolean;
  /** Checkout whose test services to read; the current directory by default. */
  root?: string;
}

interface ServicesStateFile {
  hecToken?: string;
  services?: Partial<Record<'moto' | 'opensearch' | 'hec', { url?: string }>>;
}

/** Relative to the checkout, where `npm run services -- up` records the running services. */
export const SERVICES_STATE_FILE = path.join('.cache', 'services', 'state.json');

/**
 * Flags win; with `services`, the test services fill the gaps. Nothing is guessed: without either, the
 * parts that need a service are skipped and say so.
 */
export function resolveEndpoints(options: EndpointOptions): BenchEndpoints {
  let state: ServicesStateFile | undefined;
  if (options.services) {
    const file = path.resolve(options.root ?? process.cwd(), SERVICES_STATE_FILE);
    try {
      state = JSON.parse(readFileSync(file, 'utf8')) as ServicesStateFile;
    } catch (err) {
      throw new Error(
        `--services: cannot read ${SERVICES_STATE_FILE} (${(err as Error).message}); start them with 'npm run services -- up'`,
      );
    }
  }
  const endpoints: BenchEndpoints = {};
  const moto = options.moto ?? state?.services?.moto?.url;
  const search = options.search ?? state?.services?.opensearch?.url;
  const hecUrl = options.hec ?? state?.services?.hec?.url;
  const hecToken = options.hecToken ?? process.env.ASC_HEC_TOKEN ?? state?.hecToken;
  if (moto) endpoints.moto = moto;
  if (search) endpoints.search = search;
  if (hecUrl && hecToken) endpoints.hec = { url: hecUrl, token: hecToken };
  return endpoints;
}
