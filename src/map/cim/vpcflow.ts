import type { FlowFields, RecordOrigin } from '../../types.js';
import { flowRegionOfKey } from '../flow-region.js';
import { isWholeNumber } from '../whole-number.js';
import { CimMapError } from './errors.js';
import { vpcFlowTables as tables } from './lookups.js';
import type { CimFields } from './types.js';

function integer(fields: FlowFields, name: string, origin: RecordOrigin): number | undefined {
  const raw = fields[name];
  if (raw === undefined || raw === '') return undefined;
  if (!isWholeNumber(raw)) throw new CimMapError(`${name} "${raw}" is not a whole number`, origin, name);
  return Number(raw);
}

/** Numbers go as their decimal text: HEC takes indexed field values as strings (or lists of them). */
function setIf(out: CimFields, name: string, value: string | number | undefined): void {
  if (value !== undefined && value !== '') out[name] = typeof value === 'number' ? String(value) : value;
}

/** CIM Network_Traffic fields for one flow record, as the Splunk Add-on for AWS derives them. */
export function vpcFlowCimFields(fields: FlowFields, origin: RecordOrigin): CimFields {
  const out: CimFields = { vendor_product: tables.vendorProduct, app: tables.vendorProduct };
  const flowAction = fields.action;
  out.action = (flowAction && tables.action[flowAction]) || 'unknown';
  setIf(out, 'vpcflow_action', flowAction);
  setIf(out, 'log_status', fields['log-status']);
  setIf(out, 'src_ip', fields.srcaddr);
  setIf(out, 'src', fields.srcaddr);
  setIf(out, 'dest_ip', fields.dstaddr);
  setIf(out, 'dest', fields.dstaddr);
  setIf(out, 'src_port', integer(fields, 'srcport', origin));
  setIf(out, 'dest_port', integer(fields, 'dstport', origin));
  const protocolCode = fields.protocol;
  if (protocolCode !== undefined) {
    if (!isWholeNumber(protocolCode)) {
      throw new CimMapError(`protocol "${protocolCode}" is not an IANA protocol number`, origin, 'protocol');
    }
    out.protocol_code = String(Number(protocolCode));
    const known = tables.protocols[protocolCode];
    out.protocol = known?.[0] ?? 'ip';
    out.transport = known?.[1] ?? protocolCode;
  }
  const dest = fields.dstaddr ?? fields.srcaddr;
  if (dest) out.protocol_version = dest.includes(':') ? 'IPV6' : 'IPV4';
  const bytes = integer(fields, 'bytes', origin);
  const packets = integer(fields, 'packets', origin);
  setIf(out, 'bytes', bytes);
  setIf(out, 'packets', packets);
  const direction = fields['flow-direction'] ? tables.direction[fields['flow-direction']] : undefined;
  if (direction) {
    out.direction = direction;
    // Only a known direction says which way the bytes went.
    const suffix = direction === 'inbound' ? 'in' : 'out';
    setIf(out, `bytes_${suffix}`, bytes);
    setIf(out, `packets_${suffix}`, packets);
  }
  const start = integer(fields, 'start', origin);
  const end = integer(fields, 'end', origin);
  setIf(out, 'start_time', start);
  setIf(out, 'end_time', end);
  if (start !== undefined && end !== undefined) setIf(out, 'duration', end - start);
  setIf(out, 'dvc', fields['interface-id']);
  setIf(out, 'aws_account_id', fields['account-id']);
  setIf(out, 'vendor_account', fields['account-id']);
  setIf(out, 'vendor_region', fields.region ?? flowRegionOfKey(origin.key));
  setIf(out, 'vpc_id', fields['vpc-id']);
  setIf(out, 'subnet_id', fields['subnet-id']);
  setIf(out, 'instance_id', fields['instance-id']);
  setIf(out, 'tcp_flags', integer(fields, 'tcp-flags', origin));
  setIf(out, 'traffic_path', fields['traffic-path']);
  return out;
}
