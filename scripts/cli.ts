import { parseArgs, type ParseArgsConfig } from 'node:util'

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
