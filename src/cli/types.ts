/** What every `nbt` subcommand receives and provides. */

export interface CliOutput {
  write(chunk: string): unknown;
  /** True when the stream is a terminal (progress bars are drawn only then). */
  isTTY?: boolean;
  columns?: number;
}

export interface CliIO {
  stdout: CliOutput;
  stderr: CliOutput;
  /** --verbose was given: print more detail (and stacks for unexpected errors). */
  verbose: boolean;
  /** Aborted on the first SIGINT/SIGTERM; long-running commands should wind down and return. */
  signal: AbortSignal;
  /** The package version, for created-by strings and --version. */
  version: string;
}

export interface Command {
  /** The word after `nbt`. */
  name: string;
  /** One line for `nbt --help`. */
  summary: string;
  /** Full help text for `nbt <name> --help`. */
  usage: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(argv: string[], io: CliIO): Promise<number>;
}
