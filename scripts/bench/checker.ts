import { readFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import { gunzipSync } from 'node:zlib'
import { registerOps, type OpRecord } from '../chaos/core/history.js'
import { byKey, checkKey, describeInconclusive, describeViolation } from '../chaos/core/linearizability.js'
import { simulateKvLeader, type SimulationOptions } from './simulated-kv-leader.js'
import { list, number } from '../../shared/src/config.js'
import { envKnobs } from '../cli.js'

/**
 * `npm run bench:checker [-- history.jsonl[.gz] ...]`: how long the linearizability checker takes
 * per key, on 5-minute kv-leader histories at the chaos run's rates (simulated: the real workload
 * against a correct store with leader freezes, `simulated-kv-leader.ts`), or on recorded chaos
 * histories given as arguments. A figure, not a test: the target is every key of a
 * 5-minute run decided within 60 s on a 2-core machine.
 * Knobs (env): BENCH_SEEDS (1,2,3), BENCH_DURATION_S (300).
 */
const knobs = envKnobs({
  seeds: list('BENCH_SEEDS', ['1', '2', '3']),
  durationS: number('BENCH_DURATION_S', 300, { min: 1 })
})
const seeds = knobs.seeds.map(Number)
const durationMs = knobs.durationS * 1_000

interface Scenario { name: string, options: Omit<SimulationOptions, 'seed' | 'durationMs'> }
const scenarios: Scenario[] = [
  { name: 'default rates: 40 ops/s, 16 keys, no freeze', options: { rate: 40, keys: 16 } },
  { name: 'default rates: 40 ops/s, 16 keys, leader frozen 2–4 s every ~10 s', options: { rate: 40, keys: 16, freezes: { everyMs: 10_000, minMs: 2_000, maxMs: 4_000 } } },
  { name: 'hot: 80 ops/s, 4 keys, leader frozen 3–8 s every ~10 s', options: { rate: 80, keys: 4, freezes: { everyMs: 10_000, minMs: 3_000, maxMs: 8_000 } } }
]

function measure (label: string, records: readonly OpRecord[]): void {
  const ops = registerOps(records.filter((r) => r.workload === 'kv-leader'))
  const unknown = ops.filter((op) => op.complete === undefined && op.kind !== 'read').length
  const times: number[] = []
  const verdicts = new Map<string, number>()
  const started = performance.now()
  const cpuStarted = process.cpuUsage()
  for (const [key, keyOps] of byKey(ops)) {
    const t = performance.now()
    const v = checkKey(key, keyOps)
    times.push(performance.now() - t)
    verdicts.set(v.result, (verdicts.get(v.result) ?? 0) + 1)
    if (v.result === 'violation') console.log(`  ${describeViolation(v)}`)
    if (v.result === 'inconclusive') console.log(`  ${describeInconclusive(v)}`)
  }
  const total = performance.now() - started
  const cpu = process.cpuUsage(cpuStarted)
  const ms = (x: number): string => `${x.toFixed(0)} ms`
  // CPU time as well as wall time: on a shared machine the wall time mostly measures the others
  console.log(`${label}: ${ops.length} ops (${unknown} writes/deletes of unknown outcome) on ${times.length} keys: ` +
    `max ${ms(Math.max(...times))} per key, mean ${ms(times.reduce((a, b) => a + b, 0) / times.length)}, all keys ${ms(total)} (CPU ${ms((cpu.user + cpu.system) / 1_000)}); ` +
    [...verdicts].map(([v, n]) => `${n} ${v}`).join(', '))
}

console.log(`node ${process.version}, ${availableParallelism()} cores, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`)
const files = process.argv.slice(2)
if (files.length > 0) {
  for (const file of files) {
    const raw = readFileSync(file)
    const text = file.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8')
    measure(file, text.trim().split('\n').map((line) => JSON.parse(line) as OpRecord))
  }
} else {
  for (const s of scenarios) {
    for (const seed of seeds) measure(`${s.name}, seed ${seed}`, simulateKvLeader({ seed, durationMs, ...s.options }))
  }
}
