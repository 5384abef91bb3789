import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { killAll } from '../../../shared/testing/processes.js'
import { commandLine } from '../../cli.js'
import { parseRates } from '../workloads.js'
import { redisFaultKinds, type RedisFaultKind } from './faults.js'
import { formatRedisReport } from './format.js'
import { runRedisChaos } from './run.js'

/** `npm run chaos -- --redis sentinel …`: whether the arguments ask for the Redis failover run. */
export function sentinelRequested (argv: readonly string[]): boolean {
  return argv.some((a, i) => a === '--redis=sentinel' || (a === '--redis' && argv[i + 1] === 'sentinel'))
}

const usage = `usage: npm run chaos -- --redis sentinel [--faults N] [--kinds kill,freeze,rejoin] [--freeze-ms MIN-MAX]
       [--settle-ms MS] [--seed N] [--rate echo=100,feed=50,...] [--rate-scale F] [--out DIR]
Starts its own primary + replica + 3 Sentinels and the whole topology, loads it through the
gateway while the Redis primary is killed / frozen / killed and restarted at once, then looks
for every acknowledged event, output and job on the final primary.`

/** Runs the Redis failover chaos from the command line; resolves with the exit code. */
export async function sentinelChaosMain (): Promise<number> {
  const cli = commandLine('chaos --redis sentinel', usage, {
    redis: { type: 'string' },
    faults: { type: 'string' },
    kinds: { type: 'string' },
    'freeze-ms': { type: 'string' },
    'settle-ms': { type: 'string' },
    seed: { type: 'string' },
    rate: { type: 'string' },
    'rate-scale': { type: 'string' },
    out: { type: 'string' }
  })
  const v = cli.values
  const env = process.env
  const kinds = (v.kinds ?? 'kill,freeze,rejoin').split(',').map((k) => `redis-primary-${k.trim()}`)
  if (kinds.length === 0 || !kinds.every((k) => (redisFaultKinds as readonly string[]).includes(k))) cli.fail('--kinds is a list of kill, freeze, rejoin')
  const freeze = (v['freeze-ms'] ?? '2500-4000').split('-').map(Number)
  if (freeze.length !== 2 || !freeze.every((x) => x >= 0 && x <= 60_000) || freeze[0]! > freeze[1]!) cli.fail('--freeze-ms must be MIN-MAX in ms')
  let rates: Record<string, number> = {}
  try {
    rates = parseRates(v.rate ?? env.CHAOS_RATES)
  } catch (err) {
    cli.fail((err as Error).message)
  }
  const faults = cli.num(v.faults, '--faults', 21, 1, 1_000)
  const seed = Math.floor(cli.num(v.seed ?? env.CHAOS_SEED, '--seed', Math.floor(Math.random() * 1_000_000), 0, 2 ** 32 - 1))
  const settleMs = cli.num(v['settle-ms'], '--settle-ms', 3_000, 0, 600_000)
  const command = ['npm run chaos -- --redis sentinel', '--faults', String(faults), '--kinds', v.kinds ?? 'kill,freeze,rejoin', '--seed', String(seed),
    ...(v['freeze-ms'] !== undefined ? ['--freeze-ms', v['freeze-ms']] : []), ...(v['settle-ms'] !== undefined ? ['--settle-ms', v['settle-ms']] : []),
    ...(v.rate !== undefined ? ['--rate', v.rate] : []), ...(v['rate-scale'] !== undefined ? ['--rate-scale', v['rate-scale']] : [])].join(' ')
  const log = (line: string): void => { process.stdout.write(`chaos: ${line}\n`) }
  log(`${command}`)
  // Ctrl-C: end every process this run started (the Redis ones would outlive us otherwise)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { killAll(); process.exit(130) })
  const report = await runRedisChaos({
    seed,
    faults,
    kinds: kinds as RedisFaultKind[],
    freezeMs: [freeze[0]!, freeze[1]!],
    settleMs,
    rates,
    rateScale: cli.num(v['rate-scale'], '--rate-scale', 1, 0, 100),
    command,
    log
  })
  const outDir = resolve(v.out ?? env.NINES_REPORTS_DIR ?? 'reports')
  mkdirSync(outDir, { recursive: true })
  const base = join(outDir, `chaos-redis-${report.startedAt.replace(/[:.]/g, '-')}`)
  const text = formatRedisReport(report)
  writeFileSync(`${base}.json`, JSON.stringify(report, null, 2) + '\n')
  writeFileSync(`${base}.md`, text)
  process.stdout.write(text)
  process.stdout.write(`report: ${base}.json, ${base}.md\n`)
  return report.ok ? 0 : 1
}
