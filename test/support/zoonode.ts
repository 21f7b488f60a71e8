// Test support (not a test file): start a zoonode server in this process on
// 127.0.0.1 with an ephemeral port and a temporary data directory.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildConfig, type ConfigLine } from '../../src/config/index.js';
import { startServer, type RunningServer } from '../../src/main.js';
import { freePort } from '../../native-free-bench/servers.js';

/** A port that was free a moment ago (bind port 0, read it, close). */
export { freePort };

export interface TestServer {
  host: string;
  port: number;
  /** host:port */
  connectString: string;
  dataDir: string;
  server: RunningServer;
  stop(): Promise<void>;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `zoonode-${prefix}-`));
}

export async function startZoonode(settings: Record<string, string | number | boolean> = {}): Promise<TestServer> {
  const dataDir = typeof settings.dataDir === 'string' ? settings.dataDir : tempDir('data');
  const base: Record<string, string | number | boolean> = {
    tickTime: 2000,
    clientPortAddress: '127.0.0.1',
    clientPort: 0,
    dataDir,
    workers: 0,
    'admin.enableServer': false,
    ...settings,
  };
  const lines: ConfigLine[] = Object.entries(base).map(([key, value], i) => ({
    source: 'test', line: i + 1, key, value: String(value),
  }));
  const cfg = buildConfig(lines, null);
  const server = await startServer(cfg);
  return {
    host: server.host,
    port: server.port,
    connectString: `${server.host}:${server.port}`,
    dataDir,
    server,
    async stop() {
      await server.stop();
      if (settings.dataDir === undefined) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * startZoonode with a secureClientPort. That port cannot be 0 (0 means no TLS
 * port, as in Apache), so it is picked free beforehand; another process can
 * take it in between, so EADDRINUSE is tried again on a new port (three
 * tries). A start that fails is printed as well, so its reason shows in the
 * output beside the tests it cancels.
 */
export async function startZoonodeSecure(settings: Record<string, string | number | boolean>): Promise<TestServer & { securePort: number }> {
  for (let attempt = 1; ; attempt++) {
    const securePort = await freePort();
    try {
      const z = await startZoonode({ secureClientPortAddress: '127.0.0.1', ...settings, secureClientPort: securePort });
      return Object.assign(z, { securePort });
    } catch (e) {
      if (attempt < 3 && /EADDRINUSE/.test(String(e))) continue;
      console.log(`startZoonodeSecure (workers=${String(settings.workers ?? 0)}) failed: ${(e as Error).stack ?? String(e)}`);
      throw e;
    }
  }
}

/** The worker layouts every integration test runs under. */
export const workerModes = [0, 1, 2] as const;
