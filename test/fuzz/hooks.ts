/**
 * Module loader hooks (registered by the fuzz runner): every module of the engine (dist/src) is
 * instrumented as it loads; everything else (Node, node_modules, the fuzz harness) is not.
 * Counter ids are handed out in load order, so the same build gives the same ids every run.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { instrument } from './instrument.js';

interface InitData {
  /** URL prefix of the modules to instrument (…/dist/src/). */
  prefix: string;
  mapSize: number;
}

let prefix = '';
let mapSize = 1 << 16;
let nextId = 1;

export function initialize(data: InitData): void {
  prefix = data.prefix;
  mapSize = data.mapSize;
}

type LoadResult = { format?: string; source?: string | ArrayBuffer | Uint8Array; shortCircuit?: boolean };
type NextLoad = (url: string, ctx: object) => Promise<LoadResult>;

export async function load(url: string, ctx: { format?: string }, next: NextLoad): Promise<LoadResult> {
  if (!url.startsWith(prefix) || !url.endsWith('.js')) return next(url, ctx);
  const source = await readFile(fileURLToPath(url), 'utf8');
  const { code, count } = instrument(source, url, nextId, mapSize);
  nextId += count;
  return { format: 'module', source: code, shortCircuit: true };
}
