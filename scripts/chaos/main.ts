import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { commandLine } from '../cli.js'
import { resolveCluster } from './adapters/cluster.js'
import { defaultBounds, parseBounds } from './core/bounds.js'
import { formatConsole, formatMarkdown } from './format.js'
import { runChaos } from './run.js'
import { parseRates } from './workloads.js'
import { sentinelChaosMain, sentinelRequested } from './redis/main.js'

// `--redis sentinel`: the Redis failover run (scripts/chaos/redis), which starts its own cluster
if (sentinelRequested(process.argv.slice(2))) process.exit(await sentinelChaosMain())

/**
 * `npm run chaos -- --duration 120 --seed 7`: a mixed open-loop load through the gateway while
 * the launcher's control API injects a seeded schedule of faults; then the report (console,
 * reports/chaos-<time>.{json,md} and the full history as .jsonl). Exit 1 when an invariant is
 * violated or undecided (unless --allow-inconclusive), an availability bound is not met or a
 * failover never recovered; 2 when the cluster cannot be reached or the arguments are wrong.
 */
const usage = `usage: npm run chaos -- [--duration S] [--seed N] [--gateway URL] [--control URL] [--redis URL]
       [--state-dir DIR] [--prefix P] [--rate echo=100,kv-leader=40] [--rate-scale F] [--mean-gap-ms MS]
       [--freeze-ms MIN-MAX] [--max-faults N] [--no-redis] [--no-faults] [--timeout-ms MS] [--keys N] [--out DIR]
       [--bound echo=99.99,kv-leader-writes=99.9] [--allow-inconclusive] [--checker-max-steps N]`

const cli = commandLine('chaos', usage, {
  duration: { type: 'string' },
  seed: { type: 'string' },
  gateway: { type: 'string' },
  control: { type: 'string' },
  redis: { type: 'string' },
  'state-dir': { type: 'string' },
  prefix: { type: 'string' },
  rate: { type: 'string' },
  'rate-scale': { type: 'string' },
  'mean-gap-ms': { type: 'string' },
  'freeze-ms': { type: 'string' },
  'max-faults': { type: 'string' },
  'no-redis': { type: 'boolean', default: false },
  'no-faults': { type: 'boolean', default: false },
  'timeout-ms': { type: 'string' },
  keys: { type: 'string' },
  out: { type: 'string' },
  bound: { type: 'string' },
  'allow-inconclusive': { type: 'boolean', default: false },
  'checker-max-steps': { type: 'string' }
})
const parsed = cli.values
// annotated so that TypeScript knows a call to it ends the program
const fail: (message: string) => never = cli.fail
const num = cli.num
const env = process.env
const durationS = num(parsed.duration ?? env.CHAOS_DURATION, '--duration', 120, 5, 86_400)
const seed = Math.floor(num(parsed.seed ?? env.CHAOS_SEED, '--seed', Math.floor(Math.random() * 1_000_000), 0, 2 ** 32 - 1))
const freeze = (parsed['freeze-ms'] ?? env.CHAOS_FREEZE_MS)?.split('-').map(Number)
if (freeze !== undefined && (freeze.length !== 2 || !freeze.every((x) => x >= 0 && x <= 600_000) || freeze[0]! > freeze[1]!)) fail('--freeze-ms must be MIN-MAX in ms')
let rates
try {
  rates = parseRates(parsed.rate ?? env.CHAOS_RATES)
} catch (err) {
  fail((err as Error).message)
}
let bounds
try {
  // flags override the defaults one by one; `--bound kv-leader-writes=0` effectively turns one off
  bounds = { ...defaultBounds, ...parseBounds(parsed.bound ?? env.CHAOS_BOUNDS) }
} catch (err) {
  fail((err as Error).message)
}
let cluster
try {
  cluster = resolveCluster({ gateway: parsed.gateway, control: parsed.control, redis: parsed.redis, stateDir: parsed['state-dir'] })
} catch (err) {
  fail((err as Error).message)
}
const meanGap = parsed['mean-gap-ms'] ?? env.CHAOS_MEAN_GAP_MS
const maxFaults = parsed['max-faults']
const command = ['npm run chaos --', '--duration', String(durationS), '--seed', String(seed),
  ...(parsed.rate !== undefined ? ['--rate', parsed.rate] : []),
  ...(parsed['rate-scale'] !== undefined ? ['--rate-scale', parsed['rate-scale']] : []),
  ...(meanGap !== undefined ? ['--mean-gap-ms', meanGap] : []),
  ...(parsed['freeze-ms'] !== undefined ? ['--freeze-ms', parsed['freeze-ms']] : []),
  ...(parsed['no-redis'] === true ? ['--no-redis'] : []),
  ...(parsed.bound !== undefined ? ['--bound', parsed.bound] : []),
  ...(parsed['allow-inconclusive'] === true ? ['--allow-inconclusive'] : [])].join(' ')

const log = (line: string): void => { process.stdout.write(`chaos: ${line}\n`) }
log(`seed ${seed}, ${durationS} s against ${cluster.gatewayUrl}${cluster.controlUrl !== undefined ? ` (control ${cluster.controlUrl})` : ''}`)
let outcome
try {
  outcome = await runChaos({
    cluster,
    durationS,
    seed,
    rates,
    rateScale: num(parsed['rate-scale'] ?? env.CHAOS_RATE_SCALE, '--rate-scale', 1, 0, 100),
    ...(meanGap !== undefined ? { meanGapMs: num(meanGap, '--mean-gap-ms', 10_000, 500, 3_600_000) } : {}),
    ...(freeze !== undefined ? { freezeMs: [freeze[0]!, freeze[1]!] as const } : {}),
    ...(maxFaults !== undefined ? { maxFaults: num(maxFaults, '--max-faults', 1_000, 0, 10_000) } : {}),
    redisRestart: parsed['no-redis'] !== true,
    faults: parsed['no-faults'] !== true,
    timeoutMs: num(parsed['timeout-ms'], '--timeout-ms', 11_000, 100, 120_000),
    keyCount: num(parsed.keys, '--keys', 16, 1, 10_000),
    prefix: parsed.prefix ?? env.NINES_PREFIX ?? 'nines',
    bounds,
    allowInconclusive: parsed['allow-inconclusive'] === true,
    checkerMaxSteps: num(parsed['checker-max-steps'], '--checker-max-steps', 10_000_000, 1, 1e12),
    command,
    log
  })
} catch (err) {
  process.stderr.write(`chaos: could not run against ${cluster.gatewayUrl}: ${(err as Error).message}\n(is the cluster up? npm start)\n`)
  process.exit(2)
}

const outDir = resolve(parsed.out ?? env.NINES_REPORTS_DIR ?? 'reports')
mkdirSync(outDir, { recursive: true })
const stamp = outcome.report.startedAt.replace(/[:.]/g, '-')
const base = join(outDir, `chaos-${stamp}`)
writeFileSync(`${base}.json`, JSON.stringify(outcome.report, null, 2) + '\n')
writeFileSync(`${base}.md`, formatMarkdown(outcome.report))
writeFileSync(`${base}.history.jsonl`, outcome.records.map((r) => JSON.stringify(r)).join('\n') + '\n')
process.stdout.write(formatConsole(outcome.report))
process.stdout.write(`report: ${base}.json, ${base}.md (history: ${base}.history.jsonl)\n`)
process.exitCode = outcome.report.ok ? 0 : 1
