// npm run services -- up|down|status|install
import { downServices, installServices, servicesStatus, upServices } from './services.js';

const usage = 'usage: npm run services -- up|down|status|install';

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case 'up':
      await upServices();
      return 0;
    case 'down':
      await downServices();
      return 0;
    case 'install':
      await installServices();
      return 0;
    case 'status': {
      const statuses = await servicesStatus();
      for (const status of statuses) {
        const fields = [
          status.name.padEnd(10),
          (status.up ? 'up' : 'down').padEnd(4),
          `url=${status.url ?? '-'}`,
          `pid=${status.pid ?? '-'}`,
          `log=${status.logFile}`,
        ];
        process.stdout.write(`${fields.join(' ')}\n`);
      }
      return 0;
    }
    default:
      process.stderr.write(`${usage}\n`);
      return 64;
  }
}

main(process.argv[2]).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
