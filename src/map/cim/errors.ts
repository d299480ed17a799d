import { ConnectorError } from '../../errors.js';
import type { RecordOrigin } from '../../types.js';
import { objectUrl } from '../object-url.js';

/** A record that cannot be mapped to a CIM envelope; it goes to the dead letter with this reason. */
export class CimMapError extends ConnectorError {
  constructor(message: string, origin: RecordOrigin, field: string) {
    super('MAP_FAILED', `${objectUrl(origin)} record ${origin.record}: ${message}`, {
      details: { bucket: origin.bucket, key: origin.key, record: origin.record, field },
    });
  }
}
