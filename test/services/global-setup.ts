// vitest globalSetup for the integration project: installs what is missing, then starts (or reuses) moto,
// OpenSearch and the HEC receiver. Services stay up afterwards so the next run starts in seconds;
// `npm run services -- down` (and CI) stops them.
import { upServices } from './services.js';

export default async function setup(): Promise<void> {
  const started = Date.now();
  await upServices((line) => process.stderr.write(`[services] ${line}\n`));
  process.stderr.write(`[services] ready in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
}
