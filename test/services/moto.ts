import path from 'node:path';
import { cacheDir, repoRoot, servicesCacheDir, servicesSourceDir } from './paths.js';
import { fingerprint, httpProbe, isUpToDate, runStep, spawnDetached, writeStamp } from './process.js';
import type { ServiceDefinition } from './service.js';

const requirementsFile = path.join(servicesSourceDir, 'moto', 'requirements.txt');
const constraintsFile = path.join(servicesSourceDir, 'moto', 'constraints.txt');
const venvDir = path.join(cacheDir, 'venv');
const motoServer = path.join(venvDir, 'bin', 'moto_server');
const stampFile = path.join(venvDir, '.asc-requirements.sha256');
const installLog = path.join(servicesCacheDir, 'moto-install.log');
const python = process.env['PYTHON'] ?? 'python3';
const logFile = path.join(servicesCacheDir, 'moto.log');

export const moto: ServiceDefinition = {
  name: 'moto',
  title: 'moto server (S3, SQS, WAFv2, IAM, EC2, STS, CloudFormation)',
  logFile,
  startTimeoutMs: 60_000,

  async install() {
    const print = await fingerprint([requirementsFile, constraintsFile], [python]);
    if (await isUpToDate(stampFile, print, [motoServer])) return { built: false, ms: 0 };
    let ms = await runStep('moto', python, ['-m', 'venv', '--clear', venvDir], {
      logFile: installLog,
      cwd: repoRoot,
    });
    ms += await runStep(
      'moto',
      path.join(venvDir, 'bin', 'pip'),
      [
        'install',
        '--disable-pip-version-check',
        '--no-input',
        // Byte-compiling the whole tree (sympy, cfn-lint) costs minutes on two cores; moto compiles only
        // the modules it imports, once, on first start.
        '--no-compile',
        '-r',
        requirementsFile,
        '-c',
        constraintsFile,
      ],
      { logFile: installLog, cwd: repoRoot },
    );
    await writeStamp(stampFile, print);
    return { built: true, ms, logFile: installLog };
  },

  async start({ port }) {
    const { pid } = await spawnDetached(motoServer, ['-H', '127.0.0.1', '-p', String(port)], {
      logFile,
      cwd: repoRoot,
      // Lets tests attach AWS-managed policies (arn:aws:iam::aws:policy/...); it costs well under a second.
      env: { ...process.env, MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' },
    });
    return { pid, url: `http://127.0.0.1:${port}` };
  },

  async healthy(record) {
    return await httpProbe(`${record.url}/moto-api/`);
  },
};
