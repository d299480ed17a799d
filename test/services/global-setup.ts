// Replaced by the test-services entry point: starts moto, OpenSearch and the HEC receiver.
export default async function setup(): Promise<void> {
  throw new Error('test services are not wired yet');
}
