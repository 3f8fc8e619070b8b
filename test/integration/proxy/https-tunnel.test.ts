/**
 * httpAgents through an HTTP CONNECT proxy (in process): an http:// request rides the tunnel as
 * is, an https:// one runs TLS inside it, end to end with the server (its certificate checked
 * against the name asked for, which the proxy receives, not an address we resolved).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as https from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { httpAgents } from '../../../src/proxy/index.js';
import { systemClock } from '../../../src/util/clock.js';
import { selfSignedCert } from '../../helpers/tls-cert.js';
import { tempDir } from '../../helpers/tmp.js';

function get(url: string, agent: http.Agent, ca?: Buffer): Promise<string> {
  const lib = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    lib
      .get(url, { agent, ...(ca ? { ca } : {}) }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

test('httpAgents through HTTP CONNECT: http:// in the tunnel, https:// with TLS inside it to the name asked for', async (t) => {
  const tmp = await tempDir();
  t.after(() => tmp.cleanup());
  const tls = await selfSignedCert(tmp.path, 'DNS:localhost');
  if (!tls) {
    t.skip('openssl not available');
    return;
  }
  const pem = tls.cert;
  const secure = https.createServer({ key: tls.key, cert: pem }, (req, res) => res.end(`tls ${req.url}`));
  const plain = http.createServer((req, res) => res.end(`plain ${req.url}`));
  // The proxy: CONNECT host:port, dialled on 127.0.0.1 (the name is only what we check).
  const targets: string[] = [];
  const proxy = http.createServer((_req, res) => res.writeHead(405).end());
  proxy.on('connect', (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
    targets.push(req.url ?? '');
    const port = Number((req.url ?? '').split(':').pop());
    const up = connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(client).pipe(up);
    });
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  for (const s of [secure, plain, proxy]) {
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      s.closeAllConnections();
      s.close();
    });
  }
  const portOf = (s: http.Server): number => (s.address() as AddressInfo).port;
  const agents = httpAgents({
    clock: systemClock,
    proxy: { type: 'http', host: '127.0.0.1', port: portOf(proxy) },
  });
  t.after(() => {
    agents.http.destroy();
    agents.https.destroy();
  });
  assert.equal(await get(`http://localhost:${portOf(plain)}/a`, agents.http), 'plain /a');
  assert.equal(await get(`https://localhost:${portOf(secure)}/b`, agents.https, pem), 'tls /b');
  // Without the CA the certificate is refused: TLS really is end to end.
  await assert.rejects(get(`https://localhost:${portOf(secure)}/c`, agents.https), /self[- ]signed/);
  assert.deepEqual(targets.slice(0, 2), [`localhost:${portOf(plain)}`, `localhost:${portOf(secure)}`]);
});
