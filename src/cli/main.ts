#!/usr/bin/env node
/**
 * The `nbt` command: global flags, the subcommand registry, and error reporting (one line on
 * stderr; exit 1 for failures, 2 for usage errors; stacks only with --verbose).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NbtError } from '../util/errors.js';
import { UsageError } from './args.js';
import { commands, type CommandEntry } from './commands/index.js';
import { terminalSafe } from './format.js';
import { PACKAGE_VERSION } from '../util/version.js';
import type { CliIO } from './types.js';

export function packageVersion(): string {
  return PACKAGE_VERSION;
}

function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return (
    `Usage: nbt <command> [options]\n       nbt <command> --help\n\nCommands:\n` +
    commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n') +
    `\n\nGlobal options:\n  -h, --help      show help\n  -V, --version   show the version\n  -v, --verbose   more detail; stack traces for unexpected errors\n`
  );
}

export function findCommand(name: string): CommandEntry | undefined {
  return commands.find((c) => c.name === name);
}

/** Runs `nbt` with the given arguments; resolves to the exit code. Exported for tests and embedding. */
export async function main(argv: string[], io: CliIO): Promise<number> {
  // Global flags may appear anywhere before a "--"; strip them so commands parse strictly.
  const end = argv.indexOf('--') < 0 ? argv.length : argv.indexOf('--');
  const flags = new Set(argv.slice(0, end).filter((a) => /^-(h|v|V|-help|-verbose|-version)$/.test(a)));
  const rest = argv.filter((a, i) => i >= end || !/^-(v|-verbose)$/.test(a));
  const verbose = flags.has('-v') || flags.has('--verbose');
  // Every command writes through a filter that escapes terminal control characters.
  io = { ...io, stdout: terminalSafe(io.stdout), stderr: terminalSafe(io.stderr) };
  const ctx: CliIO = { ...io, verbose };
  const cmdName = rest[0];
  try {
    if (cmdName === undefined || cmdName.startsWith('-')) {
      if (flags.has('-V') || flags.has('--version')) {
        io.stdout.write(`nbt ${io.version}\n`);
        return 0;
      }
      if (flags.has('-h') || flags.has('--help')) {
        io.stdout.write(mainHelp());
        return 0;
      }
      if (cmdName !== undefined) throw new UsageError(`unknown option "${cmdName}" (see nbt --help)`);
      io.stderr.write(mainHelp());
      return 2;
    }
    const entry = findCommand(cmdName);
    if (!entry) throw new UsageError(`unknown command "${cmdName}" (see nbt --help)`);
    const cmd = await entry.load();
    const args = rest.slice(1);
    const argEnd = args.indexOf('--') < 0 ? args.length : args.indexOf('--');
    if (args.slice(0, argEnd).some((a) => a === '-h' || a === '--help')) {
      io.stdout.write(cmd.usage);
      return 0;
    }
    return await cmd.run(args, ctx);
  } catch (e) {
    return report(e, ctx, cmdName);
  }
}

function report(e: unknown, io: CliIO, cmdName: string | undefined): number {
  if (e instanceof UsageError) {
    const hint = cmdName && findCommand(cmdName) ? ` (see nbt ${cmdName} --help)` : '';
    io.stderr.write(`nbt: ${oneLine(e.message)}${e.message.includes('nbt --help') ? '' : hint}\n`);
    return 2;
  }
  if (e instanceof NbtError) {
    io.stderr.write(`nbt: ${oneLine(e.message)}\n`);
    if (io.verbose)
      io.stderr.write(`  (code ${e.code}${e.offset === undefined ? '' : `, byte ${e.offset}`})\n`);
    return 1;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  io.stderr.write(`nbt: ${oneLine(err.message)}\n`);
  if (io.verbose && err.stack) io.stderr.write(`${err.stack}\n`);
  return 1;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

/** True when this file is the program being run (directly or through npm's bin symlink). */
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const ac = new AbortController();
  let interrupts = 0;
  // The abort reason names the signal, so a command can exit 130 (SIGINT) or 143 (SIGTERM).
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++interrupts > 1) process.exit(130);
    ac.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // `nbt info x.torrent | head`: the reader went away, so there is no one left to tell. End
  // quietly, as a command killed by SIGPIPE would (exit 141 = 128 + SIGPIPE).
  const onOutputError = (e: NodeJS.ErrnoException): void => {
    if (e.code === 'EPIPE') process.exit(141);
    throw e;
  };
  process.stdout.on('error', onOutputError);
  process.stderr.on('error', onOutputError);
  const io: CliIO = {
    stdout: process.stdout,
    stderr: process.stderr,
    verbose: false,
    signal: ac.signal,
    version: packageVersion(),
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      // A command has closed what it opened; should a stray handle keep the process alive,
      // exit anyway after a grace period (the timer itself keeps nothing alive).
      setTimeout(() => process.exit(code), 3000).unref();
    },
    (e: unknown) => {
      process.stderr.write(`nbt: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
