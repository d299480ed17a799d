/**
 * `s3://bucket/prefix` → bucket and key prefix (ending in `/`, or empty for the bucket's root): the form
 * every S3 destination in the config takes (dead letter, action store).
 */
export function parseS3Location(
  location: string,
  what = 'an S3 location',
): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(location);
  if (!match) throw new Error(`${what} must be s3://bucket/prefix, got ${location}`);
  return { bucket: match[1]!, prefix: match[2] ? match[2].replace(/\/?$/, '/') : '' };
}
