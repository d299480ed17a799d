/**
 * Whether a text is a whole number as AWS writes one: ASCII digits only, no sign, fraction, exponent or
 * blanks (what `/^\d+$/` accepts), without a regex: both mappers ask this for several fields of every
 * flow record, and `Number()` alone would let `1e3`, `0x1f` and ` 7` through.
 */
export function isWholeNumber(text: string): boolean {
  const length = text.length;
  if (length === 0) return false;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
