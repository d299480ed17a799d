// Any credentials satisfy the local AWS emulator; setting them here keeps the SDK's default chain from
// looking for a real profile or instance role.
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.AWS_REGION ??= 'us-east-1';
