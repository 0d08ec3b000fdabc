import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy that forwards to `target` and, while armed, resets (RST) the client connection
 * once a request whose first line matches `when` has sent `afterBytes` of its body.
 */
export class ResetProxy {
  private server: Server;
  resets = 0;
  armed = 0;

  constructor(
    private readonly target: { host: string; port: number },
    private readonly when: RegExp,
    private readonly afterBytes: number,
  ) {
    this.server = createServer((client) => this.handle(client));
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  private handle(client: Socket): void {
    const upstream = connect(this.target.port, this.target.host);
    let seen = 0;
    let matching: boolean | null = null;
    let head = '';
    client.on('data', (chunk: Buffer) => {
      if (matching === null) {
        head += chunk.toString('latin1');
        if (head.includes('\r\n')) {
          matching = this.armed > 0 && this.when.test(head.split('\r\n')[0]!);
          if (matching) this.armed -= 1; // claimed now: parts in flight at once must not both match
        }
      }
      seen += chunk.length;
      if (matching && seen > this.afterBytes) {
        this.resets += 1;
        matching = false;
        upstream.destroy();
        client.resetAndDestroy();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.write(chunk));
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  }
}
