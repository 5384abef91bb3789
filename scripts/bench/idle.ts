/**
 * `npm run bench:idle` — what an idle cluster costs: starts the whole topology with the real
 * launcher (`npm start`'s process) on free ports, waits for it to be ready and to settle, then
 * samples every process's CPU time over a window with no traffic and prints each one's share of
 * one core, by service and in total. The launcher's own children are found through its control API;
 * its private redis-server through `cluster.json`.
 *
 * Knobs (env): SETTLE_S (default 15), IDLE_S (default 30).
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { request } from 'undici'
import { controlAuthHeaders, readControlToken } from '../launcher/control-auth.js'
import { freePort } from '../../shared/testing/ports.js'
import { number } from '../../shared/src/config.js'
import { envKnobs } from '../cli.js'
import { cpuMicros, root } from './harness.js'

const { settleS, idleS } = envKnobs({
  settleS: number('SETTLE_S', 15, { min: 0 }),
  idleS: number('IDLE_S', 30, { min: 0.1 })
})

interface Proc { id: string, service: string, pid: number }

const stateDir = mkdtempSync(join(tmpdir(), 'nines-idle-'))
const [port, controlPort] = await Promise.all([freePort(), freePort()])
const launcher = spawn(process.execPath, [resolve(root, 'dist/scripts/launcher/main.js'), '--port', String(port), '--control-port', String(controlPort), '--state-dir', stateDir], {
  env: { ...process.env, LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'pipe', 'inherit']
})
let output = ''
launcher.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })

async function stop (): Promise<void> {
  if (launcher.exitCode === null && launcher.signalCode === null) {
    launcher.kill('SIGTERM')
    await new Promise((resolve) => {
      const timer = setTimeout(() => { launcher.kill('SIGKILL'); resolve(undefined) }, 15_000)
      launcher.once('exit', () => { clearTimeout(timer); resolve(undefined) })
    })
  }
  rmSync(stateDir, { recursive: true, force: true })
}
process.once('SIGINT', () => { void stop().then(() => process.exit(130)) })

/**
 * CPU time a process has used, in µs, from every thread's schedstat (nanoseconds): an idle
 * process uses a few ms a second, below what /proc/<pid>/stat's 10 ms ticks can tell apart.
 * Falls back to the ticks where schedstat is missing.
 */
function cpuTime (pid: number): number {
  try {
    let ns = 0
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try { ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]) } catch {} // a thread that just ended
    }
    return ns / 1_000
  } catch {
    return cpuMicros(pid)
  }
}

/** The share of one core used between two readings, in %. */
function share (before: number, after: number, seconds: number): number {
  return (after - before) / 1_000_000 / seconds * 100
}

try {
  const deadline = Date.now() + 60_000
  while (!output.includes('cluster ready')) {
    if (Date.now() > deadline || launcher.exitCode !== null) throw new Error(`the cluster did not get ready:\n${output.slice(-2_000)}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const res = await request(`http://127.0.0.1:${controlPort}/instances`, { headers: controlAuthHeaders(readControlToken(stateDir)) })
  if (res.statusCode !== 200) throw new Error(`the control API answered ${res.statusCode}: ${await res.body.text()}`)
  const { instances } = await res.body.json() as { instances: Array<{ id: string, service: string, pid?: number }> }
  const cluster = JSON.parse(readFileSync(join(stateDir, 'cluster.json'), 'utf8')) as { redisPid?: number }
  const procs: Proc[] = [
    { id: 'launcher', service: 'launcher', pid: launcher.pid! },
    ...(cluster.redisPid !== undefined ? [{ id: 'redis', service: 'redis', pid: cluster.redisPid }] : []),
    ...instances.filter((i) => i.pid !== undefined).map((i) => ({ id: i.id, service: i.service, pid: i.pid! }))
  ]
  process.stdout.write(`idle benchmark: ${procs.length} processes, ${availableParallelism()} cores, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`)
  process.stdout.write(`settling ${settleS} s, then measuring ${idleS} s with no traffic\n`)
  await new Promise((resolve) => setTimeout(resolve, settleS * 1_000))

  const read = (): Map<number, number> => new Map(procs.map((p) => [p.pid, cpuTime(p.pid)]))
  const before = read()
  const t0 = performance.now()
  await new Promise((resolve) => setTimeout(resolve, idleS * 1_000))
  const after = read()
  const seconds = (performance.now() - t0) / 1_000

  const rows = procs.map((p) => ({ process: p.id, service: p.service, pid: p.pid, '% of a core': share(before.get(p.pid)!, after.get(p.pid)!, seconds) }))
  const byService = new Map<string, { n: number, pct: number }>()
  for (const r of rows) {
    const s = byService.get(r.service) ?? { n: 0, pct: 0 }
    byService.set(r.service, { n: s.n + 1, pct: s.pct + r['% of a core'] })
  }
  const total = rows.reduce((a, r) => a + r['% of a core'], 0)
  console.table(rows.map((r) => ({ ...r, '% of a core': r['% of a core'].toFixed(2) })))
  console.table([...byService].sort((a, b) => b[1].pct - a[1].pct).map(([service, s]) => ({ service, processes: s.n, '% of a core': s.pct.toFixed(2), 'per process': (s.pct / s.n).toFixed(2) })))
  process.stdout.write(`whole idle cluster: ${total.toFixed(1)} % of one core over ${seconds.toFixed(1)} s (${procs.length} processes; load average now ${loadavg()[0]!.toFixed(1)})\n`)
} finally {
  await stop()
}
process.exit(0)
