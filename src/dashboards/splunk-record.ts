import { createHash } from 'node:crypto';
import type { InstallStep, KeepReason } from './install.js';

/**
 * Whether an installed Splunk view is still as we left it. Splunk keeps no metadata of ours on a view
 * (saved searches have the same problem, see detection/install.ts), but the view's XML is ours to write:
 * each view we install carries one XML comment, right inside its root element, with two content hashes,
 * of the view we generated and of the view as Splunk stored it, both without the comment. A comment
 * because Splunk does not interpret it and an admin reading the view's source (or
 * local/data/ui/views/<name>.xml) sees what it is. The stored hash is taken from what Splunk answers
 * after the write, so a Splunk that rewrites what it is sent does not make our own views look edited.
 * An edit that keeps the comment leaves a stale record, one that drops it (an editor that writes the
 * XML afresh) leaves none: either way the view counts as the user's.
 */
const RECORD = /(?:\r?\n[ \t]*)?<!-- \[aws-siem-connector ([0-9a-f]{16}) ([0-9a-f]{16})\][\s\S]*?-->/;

// No "--" inside: XML comments may not contain it.
const NOTE =
  'Installed by aws-siem-connector dashboards install. Edits are kept by later installs (unless forced); ' +
  'this record is how they are told from ours.';

export interface ViewRecord {
  /** Hash of the view we generated when we last wrote it. */
  source: string;
  /** Hash of the view as Splunk stored it then. */
  stored: string;
}

export function viewRecord(xml: string): ViewRecord | undefined {
  const m = RECORD.exec(xml);
  return m ? { source: m[1] as string, stored: m[2] as string } : undefined;
}

/** Hash of what a view shows: its XML without our record, line endings and surrounding blanks ignored. */
export function viewHash(xml: string): string {
  const text = xml.replace(RECORD, '').replace(/\r\n?/g, '\n').trim();
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** The view with (only) this record, on its own line after the root element's start tag. */
export function withViewRecord(xml: string, source: string, stored: string): string {
  const text = xml.replace(RECORD, '');
  const comment = `<!-- [aws-siem-connector ${source} ${stored}] ${NOTE} -->`;
  const root = /<[A-Za-z][^>]*>/.exec(text);
  if (!root) return `${comment}\n${text}`;
  const at = root.index + root[0].length;
  return `${text.slice(0, at)}\n  ${comment}${text.slice(at)}`;
}

/**
 * What to do with one view, given our XML and the installed one (undefined: there is none).
 * unchanged: as we left it and ours did not change; update: ours changed and the user did not edit it,
 * or it already is ours (recorded again), or `force`; keep: edited since our install, or never recorded
 * (made by hand or by a release before records) and not what we ship now.
 */
export function splunkPlan(
  ours: string,
  installed: string | undefined,
  force: boolean,
): { action: InstallStep['action']; reason?: KeepReason } {
  if (installed === undefined) return { action: 'create' };
  const source = viewHash(ours);
  const now = viewHash(installed);
  const record = viewRecord(installed);
  if (record && record.stored === now) return { action: record.source === source ? 'unchanged' : 'update' };
  if (now === source || force) return { action: 'update' };
  return { action: 'keep', reason: record ? 'edited' : 'unrecorded' };
}
