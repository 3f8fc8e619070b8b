/**
 * A throwaway self-signed certificate made with the openssl CLI, for HTTPS servers in tests.
 */
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface TestCert {
  key: Buffer;
  /** The certificate, PEM: also the CA a client trusts. */
  cert: Buffer;
}

/**
 * Key and certificate for `san` (CN and subjectAltName, e.g. 'IP:127.0.0.1' or
 * 'DNS:localhost'), written into `dir`; undefined when openssl is missing.
 */
export async function selfSignedCert(dir: string, san: string): Promise<TestCert | undefined> {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const r = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${san.replace(/^[A-Z]+:/, '')}`,
      '-addext',
      `subjectAltName=${san}`,
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  if (r.status !== 0) return undefined;
  return { key: await readFile(key), cert: await readFile(cert) };
}
