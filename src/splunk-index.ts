/**
 * Splunk's rule for index names: lower-case letters, digits, `_` and `-`, not starting with `_` or `-`
 * (the internal indexes that do are not for data). Shared by the HEC sink's routing and the saved
 * searches' `index IN (…)`.
 */
export const SPLUNK_INDEX_NAME = /^[a-z0-9][a-z0-9_-]*$/;
