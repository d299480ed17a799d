/** An AWS region name as it appears in hosts and keys (`eu-west-1`, `us-gov-west-1`), for building patterns. */
export const AWS_REGION_PATTERN = '[a-z]{2}(?:-[a-z]+)+-\\d+';
