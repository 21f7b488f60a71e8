// The AdminServer (admin.serverAddress:admin.serverPort, admin.commandURL)
// and the Prometheus endpoint (metricsProvider.httpHost:httpPort, /metrics),
// on node:http. GET only: anything else is 405, as Apache's Jetty answers.

import http from 'node:http';
import type net from 'node:net';
import { Logger } from '../util/log.js';
import type { AdminHub } from './hub.js';

const log = new Logger('admin');

export interface HttpEndpoint {
  server: http.Server;
  port: number;
  close(): Promise<void>;
}

function listen(server: http.Server, host: string, port: number): Promise<HttpEndpoint> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      const addr = server.address() as net.AddressInfo;
      resolve({
        server,
        port: addr.port,
        close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
      });
    });
  });
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function startAdminServer(hub: AdminHub, host: string, port: number, commandUrl: string): Promise<HttpEndpoint> {
  const base = commandUrl.replace(/\/+$/, '') || '/commands';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET') {
      send(res, 405, 'text/plain', 'HTTP method not allowed\n');
      return;
    }
    if (url.pathname === base || url.pathname === `${base}/`) {
      send(res, 200, 'text/html', hub.commandList());
      return;
    }
    if (!url.pathname.startsWith(`${base}/`)) {
      send(res, 404, 'text/plain', 'Not found\n');
      return;
    }
    const name = decodeURIComponent(url.pathname.slice(base.length + 1));
    hub.command(name, url.searchParams).then(
      (body) => send(res, 200, 'application/json', body),
      (e: Error) => {
        log.warn(`admin command ${name} failed: ${e.message}`);
        send(res, 500, 'application/json', JSON.stringify({ command: name, error: e.message }));
      },
    );
  });
  return listen(server, host, port);
}

export function startMetricsServer(hub: AdminHub, host: string, port: number): Promise<HttpEndpoint> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET') {
      send(res, 405, 'text/plain', 'HTTP method not allowed\n');
      return;
    }
    if (url.pathname !== '/metrics' && url.pathname !== '/') {
      send(res, 404, 'text/plain', 'Not found\n');
      return;
    }
    hub.metrics().then(
      (body) => send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', body),
      (e: Error) => send(res, 500, 'text/plain', `metrics failed: ${e.message}\n`),
    );
  });
  return listen(server, host, port);
}
