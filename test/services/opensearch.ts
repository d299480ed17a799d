import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { cacheDir, repoRoot, servicesCacheDir, servicesSourceDir } from './paths.js';
import {
  fingerprint,
  freePort,
  httpProbe,
  isUpToDate,
  runStep,
  spawnDetached,
  writeStamp,
} from './process.js';
import type { ServiceDefinition } from './service.js';

const moduleDir = path.join(servicesSourceDir, 'opensearch');
const pomFile = path.join(moduleDir, 'pom.xml');
const sources = [
  pomFile,
  path.join(moduleDir, 'src/main/java/dev/asc/testservices/EmbeddedOpenSearch.java'),
  path.join(moduleDir, 'src/main/resources/log4j2.properties'),
];
const buildDir = path.join(cacheDir, 'opensearch');
// pom.xml points Maven's build directory here.
const mainJar = path.join(buildDir, 'target', 'embedded-opensearch-0.1.0.jar');
const classpathFile = path.join(buildDir, 'classpath.txt');
const stampFile = path.join(buildDir, 'inputs.sha256');
const nodeHome = path.join(buildDir, 'home');
const installLog = path.join(servicesCacheDir, 'opensearch-install.log');
const logFile = path.join(servicesCacheDir, 'opensearch.log');
const mvn = process.env['MVN'] ?? 'mvn';

function javaExecutable(): string {
  const javaHome = process.env['JAVA_HOME'];
  return javaHome ? path.join(javaHome, 'bin', 'java') : 'java';
}

export const opensearch: ServiceDefinition = {
  name: 'opensearch',
  title: 'OpenSearch 2.19 (embedded node)',
  logFile,
  // A cold JVM on two busy cores takes most of a minute; leave room for a loaded CI machine.
  startTimeoutMs: 240_000,

  async install() {
    const print = await fingerprint(sources);
    if (await isUpToDate(stampFile, print, [mainJar, classpathFile])) return { built: false, ms: 0 };
    const ms = await runStep(
      'opensearch',
      mvn,
      [
        '-B',
        '-q',
        '-f',
        pomFile,
        'package',
        'dependency:build-classpath',
        `-Dmdep.outputFile=${classpathFile}`,
      ],
      { logFile: installLog, cwd: repoRoot },
    );
    await writeStamp(stampFile, print);
    return { built: true, ms, logFile: installLog };
  },

  async start({ port }) {
    const transportPort = await freePort();
    const classpath = `${mainJar}${path.delimiter}${(await readFile(classpathFile, 'utf8')).trim()}`;
    // A fresh node per start: tests then never see indices left by an earlier, crashed run.
    await rm(nodeHome, { recursive: true, force: true });
    const { pid } = await spawnDetached(
      javaExecutable(),
      [
        '-Xms256m',
        '-Xmx512m',
        '-XX:+UseSerialGC',
        '-Djava.awt.headless=true',
        '-Dlog4j2.disable.jmx=true',
        '-Dopensearch.set.netty.runtime.available.processors=false',
        '-cp',
        classpath,
        'dev.asc.testservices.EmbeddedOpenSearch',
        nodeHome,
        String(port),
        String(transportPort),
      ],
      { logFile, cwd: repoRoot },
    );
    return { pid, url: `http://127.0.0.1:${port}`, extra: { transportPort } };
  },

  async healthy(record) {
    return await httpProbe(`${record.url}/_cluster/health`, {
      ok: (status, body) => status === 200 && /"status"\s*:\s*"(green|yellow)"/.test(body),
    });
  },
};
