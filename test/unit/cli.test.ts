import { describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli.js';

async function runCli(...args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  let stderr = '';
  let stdout = '';
  const errSpy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  const outSpy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  try {
    const code = await main(['node', 'aws-siem-connector', ...args]);
    return { code, stderr, stdout };
  } finally {
    errSpy.mockRestore();
    outSpy.mockRestore();
  }
}

describe('cli', () => {
  it('prints the package version', async () => {
    const { code, stdout } = await runCli('--version');
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('exits 2 on an unknown command', async () => {
    const { code, stderr } = await runCli('frobnicate');
    expect(code).toBe(2);
    expect(stderr).toContain("unknown command 'frobnicate'");
  });

  it('rejects an unknown log level', async () => {
    const { code } = await runCli('--log-level', 'loud', 'map');
    expect(code).toBe(2);
  });
});
