/** A minimal Transmission RPC client for tests: raw HTTP (status, headers) and `call` with the 409 exchange. */
import { request } from 'node:http';

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export function rawPost(
  port: number,
  body: string | Buffer,
  headers: Record<string, string> = {},
  o: { host?: string; localAddress?: string; path?: string; method?: string } = {},
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: o.host ?? '127.0.0.1',
        port,
        method: o.method ?? 'POST',
        path: o.path ?? '/transmission/rpc',
        ...(o.localAddress ? { localAddress: o.localAddress } : {}),
        timeout: 10_000,
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('RPC timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

export interface RpcAnswer {
  result: string;
  arguments: Record<string, unknown>;
  tag?: number;
}

export class RpcClient {
  private sessionId = '';
  constructor(
    readonly port: number,
    readonly host = '127.0.0.1',
    private readonly auth?: string,
  ) {}

  async call(method: string, args: Record<string, unknown> = {}, tag?: number): Promise<RpcAnswer> {
    const body = JSON.stringify({ method, arguments: args, ...(tag !== undefined ? { tag } : {}) });
    const headers = (): Record<string, string> => ({
      'x-transmission-session-id': this.sessionId,
      ...(this.auth ? { authorization: `Basic ${Buffer.from(this.auth).toString('base64')}` } : {}),
    });
    let res = await rawPost(this.port, body, headers(), { host: this.host });
    if (res.status === 409) {
      this.sessionId = String(res.headers['x-transmission-session-id'] ?? '');
      res = await rawPost(this.port, body, headers(), { host: this.host });
    }
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.text}`);
    return JSON.parse(res.text) as RpcAnswer;
  }

  /** `call` that throws unless the result is "success"; returns the arguments. */
  async ok(method: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const a = await this.call(method, args);
    if (a.result !== 'success') throw new Error(`${method}: ${a.result}`);
    return a.arguments;
  }
}
