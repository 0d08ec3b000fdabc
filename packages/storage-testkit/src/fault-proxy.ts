import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';

export interface FaultRequest {
  readonly method: string;
  readonly url: URL;
  /** 1-based count of requests seen so far, this one included. */
  readonly n: number;
}

/**
 * What to do with a request: forward it, answer with an S3-style XML error, say nothing at all
 * (`stall`: the connection stays open and silent, as behind a dead NAT), or cut the connection
 * with a TCP RST once `resetAfterBytes` of the request's body have arrived (per request, also on
 * a kept-alive connection).
 */
export type FaultDecision = 'pass' | 'stall' | { resetAfterBytes: number } | { status: number; code?: string; headers?: Record<string, string> };

/**
 * An HTTP proxy for tests of processes msw cannot reach (the CLI in a child process): forwards to
 * `target`, streaming both ways, unless `rule` says to fail the request. `rule` may change at any time.
 */
export class FaultProxy {
  rule: (req: FaultRequest) => FaultDecision = () => 'pass';
  seen = 0;
  readonly log: { method: string; path: string; status: number }[] = [];
  private readonly server: Server;

  constructor(private readonly target: string) {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  private handle(req: IncomingMessage, res: import('node:http').ServerResponse): void {
    this.seen += 1;
    const url = new URL(req.url ?? '/', this.target);
    const decision = this.rule({ method: req.method ?? 'GET', url, n: this.seen });
    if (decision === 'stall') {
      req.resume();
      this.log.push({ method: req.method ?? '', path: url.pathname + url.search, status: 0 });
      return;
    }
    if (decision !== 'pass' && 'resetAfterBytes' in decision) {
      let seen = 0;
      const reset = () => req.socket.resetAndDestroy();
      req.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen >= decision.resetAfterBytes) reset();
      });
      req.on('end', reset);
      this.log.push({ method: req.method ?? '', path: url.pathname + url.search, status: -1 });
      return;
    }
    if (decision !== 'pass' && 'status' in decision) {
      // Answer once the body is in: closing while the client still sends would reset its
      // connection, and a test of an error answer would see a reset instead.
      req.resume();
      req.on('end', () => {
        const body = decision.code ? `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${decision.code}</Code><Message>${decision.code}</Message></Error>` : '';
        res.writeHead(decision.status, { 'content-type': 'application/xml', connection: 'close', ...decision.headers }).end(body);
      });
      this.log.push({ method: req.method ?? '', path: url.pathname + url.search, status: decision.status });
      return;
    }
    const upstream = httpRequest(url, { method: req.method, headers: req.headers }, (up) => {
      this.log.push({ method: req.method ?? '', path: url.pathname + url.search, status: up.statusCode ?? 0 });
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }
}
