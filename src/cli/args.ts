import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '../errors.js';
import type { CliIo } from './io.js';

/** One flag of a command: its parseArgs type, the placeholder its value shows in help, and what it does. */
export interface FlagSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  /** Placeholder of the value in help (`N`, `HOST:PORT`); string flags only. */
  value?: string;
  description: string;
}

/** A command's table: what `--help` prints and what the parser accepts, so the two never disagree. */
export interface CommandSpec {
  /** `connect`, `tunnel serve`, ... as the user types it. */
  name: string;
  summary: string;
  /** Positional arguments, shown in the usage line; none are accepted unless listed. */
  positionals?: string;
  flags: Record<string, FlagSpec>;
  /** Extra paragraphs printed after the flags. */
  notes?: string;
}

/** Values of a parsed command line: strings, booleans or lists of strings, by flag name. */
export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/** Flags every command takes. */
export const COMMON_FLAGS: Record<string, FlagSpec> = {
  json: { type: 'boolean', description: 'print JSON lines only (one object per line), for scripts' },
  help: { type: 'boolean', description: 'print this help and exit' },
};

/** A usage error: exit 2, one line naming the command and the flag. */
export function usageError(command: string, message: string): never {
  throw new InvalidArgumentError(`${command}: ${message} (see ice-tcp ${command} --help)`);
}

/** parseArgs' three complaints about a flag's value, in CLI terms. */
function invalidValue(flag: string, message: string): string {
  if (/argument missing/.test(message)) return `${flag} needs a value`;
  // `--expect-bytes -1`: parseArgs will not take a value that looks like a flag unless it is attached
  if (/ambiguous/.test(message))
    return `${flag} needs a value (one starting with - is written ${flag}=VALUE)`;
  return `${flag} takes no value`;
}

/**
 * Parses `args` against the command's table only: a flag of another command is as unknown as a typo, and
 * parseArgs' own messages (which suggest `--` and quote internals) are reworded in CLI terms.
 */
export function parseCommand(
  spec: CommandSpec,
  args: string[],
): { values: FlagValues; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const [name, flag] of Object.entries({ ...spec.flags, ...COMMON_FLAGS })) {
    options[name] = { type: flag.type, ...(flag.multiple ? { multiple: true } : {}) };
  }
  try {
    const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: true });
    const allowed = (spec.positionals ?? '').split(' ').filter(Boolean).length;
    if (positionals.length > allowed && !values.help) {
      usageError(spec.name, `unexpected argument ${positionals[allowed]}`);
    }
    return { values: values as FlagValues, positionals };
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err;
    const e = err as { code?: string; message?: string };
    const flag = /'(-[^' ]+)/.exec(e.message ?? '')?.[1] ?? '';
    switch (e.code) {
      case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
        usageError(spec.name, `unknown option ${flag}`);
        break;
      case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
        usageError(spec.name, invalidValue(flag, e.message ?? ''));
        break;
    }
    usageError(spec.name, e.message ?? String(err));
  }
}

function flagLabel(name: string, flag: FlagSpec): string {
  const value = flag.type === 'string' ? ` ${flag.value ?? 'VALUE'}` : '';
  return `--${name}${value}${flag.multiple ? ' (repeatable)' : ''}`;
}

/** The `--help` text of a command, generated from its table. */
export function commandHelp(spec: CommandSpec): string {
  const flags = Object.entries({ ...spec.flags, ...COMMON_FLAGS });
  const labels = flags.map(([name, flag]) => flagLabel(name, flag));
  const width = Math.min(32, Math.max(...labels.map((l) => l.length)));
  const lines = [
    `usage: ice-tcp ${spec.name}${spec.positionals ? ` ${spec.positionals}` : ''} [options]`,
    '',
    spec.summary,
    '',
    'options:',
  ];
  flags.forEach(([, flag], i) => {
    const label = labels[i] as string;
    const pad = label.length > width ? `\n  ${' '.repeat(width)}  ` : ' '.repeat(width - label.length + 2);
    lines.push(`  ${label}${pad}${flag.description}`);
  });
  if (spec.notes) lines.push('', spec.notes);
  return `${lines.join('\n')}\n`;
}

/** Reads an integer flag in `[min, max]`; the error names the flag. */
export function intFlag(
  command: string,
  values: FlagValues,
  name: string,
  fallback: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    const range =
      max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
    usageError(command, `--${name} needs ${range}, got ${String(raw)}`);
  }
  return n;
}

/** Reads a `HOST:PORT` flag value (IPv6 in brackets). */
export function hostPortValue(command: string, flag: string, value: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(value);
  const port = Number(m?.[2]);
  if (!m || port > 65535) usageError(command, `--${flag} needs HOST:PORT, got ${value}`);
  return { host: m[1] as string, port };
}

/** `--bind` values: numeric IPs only, checked before anything is printed. */
export function bindValues(command: string, values: string[] | undefined): string[] | undefined {
  for (const v of values ?? []) {
    if (isIP(v) === 0) usageError(command, `--bind needs a numeric IP address, got ${v}`);
  }
  return values;
}

/** A string flag's value, or undefined. */
export function stringFlag(values: FlagValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A repeatable string flag's values (empty when absent). */
export function listFlag(values: FlagValues, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v : [];
}

/** A command of the `ice-tcp` tool: its table and what runs it once the flags parsed, with the run's stdio. */
export interface CliCommand {
  spec: CommandSpec;
  run(values: FlagValues, positionals: string[], io: CliIo): Promise<number>;
}
