import { ConnectorError } from '../../errors.js';
import type { RecordOrigin } from '../../types.js';

/** A record that cannot be mapped to a CIM envelope; it goes to the dead letter with this reason. */
export class CimMapError extends ConnectorError {
  constructor(message: string, origin: RecordOrigin, field: string) {
    const where = `${origin.bucket ? `s3://${origin.bucket}/` : ''}${origin.key} record ${origin.record}`;
    super('MAP_FAILED', `${where}: ${message}`, {
      details: { bucket: origin.bucket, key: origin.key, record: origin.record, field },
    });
  }
}
