// Test support (not a test file): random differential runs with server
// restarts (GenOptions.restarts). A restart needs a server of its own, so
// each run gets a fresh Apache ZooKeeper 3.8 and a fresh zoonode, each on its
// own data directory, which the run's restart ops stop and start again
// (random-differential.ts, restartServer: sessions are reopened with their
// ids and passwords). The two transcripts are compared as any others
// (compare in random-differential.ts).

import fs from 'node:fs';
import { startZoonode, tempDir, type TestServer } from './zoonode.js';
import { startApache, type ApacheServer } from './apache.js';
import { killOnExit, type Target, type Transcript } from './compat-wire.js';
import { apacheOnlySettings, runOn, serverSettings, type Restarter, type Sequence } from './random-differential.js';

/** Both transcripts of a sequence run with its restarts. */
export async function runWithRestarts(seq: Sequence, workers: number): Promise<{ apache: Transcript; zoonode: Transcript }> {
  const aDir = tempDir('restart-apache');
  const zDir = tempDir('restart-zoonode');
  const startA = async () => {
    const a = await startApache({ ...serverSettings, ...apacheOnlySettings, dataDir: aDir });
    killOnExit(a.process);
    return a;
  };
  const startZ = () => startZoonode({ ...serverSettings, workers, dataDir: zDir });
  let a: ApacheServer | null = null;
  let z: TestServer | null = null;
  try {
    a = await startA();
    z = await startZ();
    const restartA: Restarter = async () => {
      await a!.stop();
      a = null;
      a = await startA();
      return { host: a.host, port: a.port };
    };
    const restartZ: Restarter = async () => {
      await z!.stop();
      z = null;
      z = await startZ();
      return { host: z.host, port: z.port };
    };
    const at: Target = { name: 'apache', host: a.host, port: a.port };
    const zt: Target = { name: `zoonode(workers=${workers})`, host: z.host, port: z.port };
    const [ta, tz] = await Promise.all([runOn(at, seq, restartA), runOn(zt, seq, restartZ)]);
    return { apache: ta, zoonode: tz };
  } finally {
    await a?.stop();
    await z?.stop();
    fs.rmSync(aDir, { recursive: true, force: true });
    fs.rmSync(zDir, { recursive: true, force: true });
  }
}
