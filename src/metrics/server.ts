import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListenAddress } from '../config/listen.js';
import type { TsfwMetrics } from './registry.js';

export interface MetricsServer {
  /** The bound port (useful when listening on port 0 in tests). */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The opt-in `/metrics` endpoint (config `metrics.listen`). The config schema only admits
 * loopback addresses; this binds exactly that address and answers GET /metrics only.
 */
export async function startMetricsServer(metrics: TsfwMetrics, listen: ListenAddress): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?', 1)[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    metrics.text().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
