import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import { encode } from '../../../src/bencode/index.js';
import { HttpTrackerClient } from '../../../src/tracker/http-client.js';
import { selfSignedCert } from '../../helpers/tls-cert.js';
import { tempDir } from '../../helpers/tmp.js';

test('HTTPS trackers: certificates are verified; a given CA is trusted', async (t) => {
  const tmp = await tempDir();
  t.after(() => tmp.cleanup());
  const tls = await selfSignedCert(tmp.path, 'IP:127.0.0.1');
  if (!tls) {
    t.skip('openssl not available');
    return;
  }
  const pem = tls.cert;
  const seen: string[] = [];
  const server = createServer({ key: tls.key, cert: pem }, (req, res) => {
    seen.push(req.url ?? '');
    res.end(encode({ interval: 60, peers: Buffer.from([1, 2, 3, 4, 0, 80]) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = `https://127.0.0.1:${(server.address() as { port: number }).port}/announce`;
  const request = {
    infoHash: Buffer.alloc(20, 1),
    peerId: Buffer.alloc(20, 2),
    port: 1,
    uploaded: 0,
    downloaded: 0,
    left: 0,
    event: 'started' as const,
    numwant: 1,
    key: 1,
  };
  await assert.rejects(
    new HttpTrackerClient().announce(url, request),
    (e: { code?: string; message?: string }) => {
      return e.code === 'TRACKER_HTTP_ERROR' && /certificate/i.test(e.message ?? '');
    },
  );
  const ok = await new HttpTrackerClient({ ca: pem }).announce(url, request);
  assert.deepEqual(ok.peers, [{ host: '1.2.3.4', port: 80 }]);
  assert.deepEqual(
    seen.map((u) => u.slice(0, 80)),
    [`/announce?info_hash=${'%01'.repeat(20)}`.slice(0, 80)],
  );
});
