import { parseArgs, type ParseArgsConfig } from 'node:util'
import { ConfigError, loadConfig, type ConfigOf, type ConfigSpec } from '../shared/src/config.js'

type Options = NonNullable<ParseArgsConfig['options']>

export interface CommandLine<O extends Options> {
  values: ReturnType<typeof parseArgs<{ options: O, allowPositionals: false }>>['values']
  /** Prints the message and the usage, exits 2. */
  fail: (message: string) => never
  /** A number option (or its env fallback) within bounds, else `fallback` when absent. */
  num: (raw: string | undefined, name: string, fallback: number, min: number, max: number) => number
}

/**
 * The command-line conventions of the proof tools: unknown options and bad values exit 2 with the
 * usage, `--help` prints it and exits 0.
 */
export function commandLine<const O extends Options> (name: string, usage: string, options: O): CommandLine<O> {
  const fail = (message: string): never => {
    process.stderr.write(`${name}: ${message}\n${usage}\n`)
    process.exit(2)
  }
  if (process.argv.slice(2).includes('--help')) {
    process.stdout.write(usage + '\n')
    process.exit(0)
  }
  let values: CommandLine<O>['values'] | undefined
  try {
    values = parseArgs({ options, allowPositionals: false }).values
  } catch (err) {
    fail((err as Error).message)
  }
  const num = (raw: string | undefined, option: string, fallback: number, min: number, max: number): number => {
    if (raw === undefined || raw === '') return fallback
    const v = Number(raw)
    if (!(v >= min && v <= max)) fail(`${option} must be a number ${min}–${max}, got ${JSON.stringify(raw)}`)
    return v
  }
  return { values: values!, fail, num }
}

/**
 * A tool's knobs from the environment (a benchmark's DURATION, CONNECTIONS…), declared and parsed
 * as a service's settings are (shared/src/config.ts): a bad value stops the tool with exit 2,
 * naming every bad variable, instead of running with NaN.
 */
export function envKnobs<S extends ConfigSpec> (spec: S, env: Record<string, string | undefined> = process.env): ConfigOf<S> {
  try {
    return loadConfig(spec, env)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(`${err.problems.join('\n')}\n`)
    process.exit(2)
  }
}

/**
 * The pairs of a `name=value,…` option (`--rate echo=100,kv-leader=20`, `--bound echo=99.99`):
 * each name with its number (NaN when missing or not a number) and the part it came from, for
 * the caller to check.
 */
export function namedNumbers (spec: string | undefined): Array<{ name: string, value: number, part: string }> {
  if (spec === undefined || spec.trim() === '') return []
  return spec.split(',').map((part) => {
    const [name = '', raw = ''] = part.split('=').map((s) => s.trim())
    return { name, value: raw === '' ? NaN : Number(raw), part }
  })
}
