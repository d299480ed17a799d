import { ConnectorError } from '../../errors.js';
import type { RecordOrigin } from '../../types.js';
import { objectUrl } from '../object-url.js';

/**
 * A record that cannot become a valid ECS document (no usable timestamp, a number field that is not a
 * number). Same stable code as the CIM mapper's error, so the dead letter, its counter and the `map` CLI
 * report both schemas alike; it goes to the dead letter with this message as its reason.
 */
export class EcsMapError extends ConnectorError {
  readonly field: string;

  /** `unit` names the position as an operator finds it: a CloudTrail record number or a flow log line. */
  constructor(message: string, origin: RecordOrigin, field: string, unit: 'record' | 'line') {
    super('MAP_FAILED', `${objectUrl(origin)} ${unit} ${origin.record}: ${message}`, {
      details: { bucket: origin.bucket, key: origin.key, record: origin.record, field },
    });
    this.field = field;
  }
}
