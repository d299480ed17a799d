import { AWS_REGION_PATTERN as REGION } from '../aws-region.js';

/**
 * sqs.<region>.amazonaws.com, its FIPS, VPC-endpoint, dual-stack (`api.aws`) and China forms, and the
 * legacy <region>.queue.amazonaws.com.
 */
const QUEUE_HOST = new RegExp(
  `^(?:.+\\.)?sqs(?:-fips)?\\.(${REGION})\\.(?:(?:vpce\\.)?amazonaws\\.com(?:\\.cn)?|api\\.aws)$|^(${REGION})\\.queue\\.amazonaws\\.com(?:\\.cn)?$`,
);

/** The region a queue URL names, or undefined for one that names none (a local endpoint, `queue.amazonaws.com`). */
export function regionOfQueueUrl(queueUrl: string): string | undefined {
  let host: string;
  try {
    host = new URL(queueUrl).hostname;
  } catch {
    return undefined;
  }
  const m = QUEUE_HOST.exec(host);
  return m?.[1] ?? m?.[2];
}

/**
 * One SDK client per region, made on first use. A consumer may read queues of several regions, and a
 * notification's bucket lives in its queue's region (S3 notifies only a queue of its own region), which
 * need not be `aws.region`: a request must be signed for the region it goes to.
 */
export class RegionalClients<C extends { destroy(): void }> {
  readonly #clients = new Map<string, C>();
  readonly #make: (region: string) => C;
  readonly defaultRegion: string;

  constructor(defaultRegion: string, make: (region: string) => C) {
    this.defaultRegion = defaultRegion;
    this.#make = make;
  }

  /** The client for `region`, or for the default region when none is known. */
  get(region: string | undefined = this.defaultRegion): C {
    let client = this.#clients.get(region);
    if (client === undefined) {
      client = this.#make(region);
      this.#clients.set(region, client);
    }
    return client;
  }

  destroy(): void {
    for (const client of this.#clients.values()) client.destroy();
    this.#clients.clear();
  }
}
