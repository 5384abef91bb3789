import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { ControlClient, fetchRegistry } from '../chaos/adapters/cluster.js'
import { startLauncher } from '../lib/cluster.js'
import { killAll } from '../../shared/testing/processes.js'
import { integer, number } from '../../shared/src/config.js'
import { percentile } from '../../shared/src/percentile.js'
import { envKnobs } from '../cli.js'

/**
 * `npm run bench:leadership`: does leadership stay put on a busy host, and move fast when the
 * leader really dies? The whole cluster runs under the launcher, with BENCH_HOGS processes
 * pinning the CPUs (`yes`, 2 by default: both cores of the development machine) and a light
 * steady load (kv-leader writes and feed events). For BENCH_WATCH_S seconds (600) the registry is
 * read every 200 ms and every change of kv-leader's leader or epoch and of the hot-warm pair's
 * hot or epoch is counted (the target is 0). Then the kv-leader leader is killed (kill -9)
 * BENCH_KILLS times (10), still under the hogs: the time from each kill to the first write
 * acknowledged through the gateway, p50 and max (the target is p50 within 1 s).
 */
const { hogs, watchS, kills } = envKnobs({
  hogs: integer('BENCH_HOGS', 2, { min: 0 }),
  watchS: number('BENCH_WATCH_S', 600, { min: 0 }),
  kills: integer('BENCH_KILLS', 10, { min: 0 })
})

interface Holder { id: string, epoch: string }

async function holders (gatewayUrl: string): Promise<{ kvLeader?: Holder, hotWarm?: Holder }> {
  const registry = await fetchRegistry(gatewayUrl)
  const pick = (service: string, role: string): Holder | undefined => {
    const i = (registry[service] ?? []).find((x) => x.role === role)
    return i === undefined ? undefined : { id: i.id, epoch: String(i.meta?.epoch ?? '?') }
  }
  const kvLeader = pick('kv-leader', 'leader')
  const hotWarm = pick('ledger-hw', 'hot')
  return { ...(kvLeader !== undefined ? { kvLeader } : {}), ...(hotWarm !== undefined ? { hotWarm } : {}) }
}

async function put (url: string, body: string): Promise<number> {
  try {
    const res = await request(url, { method: 'PUT', body, headersTimeout: 5_000, bodyTimeout: 5_000 })
    await res.body.dump()
    return res.statusCode
  } catch {
    return 0
  }
}

/** Writes and feed events every `periodMs` until stopped: a cluster at work, not idle. */
function steadyLoad (gatewayUrl: string, periodMs: number): () => Promise<void> {
  const state = { running: true }
  let n = 0
  const loop = (async () => {
    while (state.running) {
      const i = n++
      await Promise.all([
        put(`${gatewayUrl}/api/kv-leader/keys/steady-${i % 16}`, `v${i}`),
        request(`${gatewayUrl}/api/feed/events`, { method: 'POST', body: JSON.stringify({ account: `steady-${i % 4}`, amount: 1 }), headers: { 'content-type': 'application/json' } }).then(async (r) => { await r.body.dump() }, () => {})
      ])
      await sleep(periodMs)
    }
  })()
  return async () => {
    state.running = false
    await loop
  }
}

async function main (): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), 'nines-leadership-'))
  const hogProcs: ChildProcess[] = []
  let launcher: Awaited<ReturnType<typeof startLauncher>> | undefined
  try {
    console.log(`starting the cluster (load average before: ${loadavg().map((x) => x.toFixed(2)).join(' ')})`)
    launcher = await startLauncher([], { NINES_PREFIX: 'bench-leadership' }, stateDir)
    const { gatewayUrl, controlUrl, controlToken } = launcher
    const control = new ControlClient(controlUrl, controlToken)
    for (let i = 0; i < hogs; i++) hogProcs.push(spawn('yes', { stdio: 'ignore' }))
    console.log(`${hogs} CPU hogs running; watching leadership for ${watchS} s under a light load`)
    const stopLoad = steadyLoad(gatewayUrl, 100)
    let last: Awaited<ReturnType<typeof holders>> = {}
    const changes = { kvLeader: [] as string[], hotWarm: [] as string[] }
    const until = Date.now() + watchS * 1_000
    while (Date.now() < until) {
      await sleep(200)
      const now = await holders(gatewayUrl).catch(() => undefined)
      if (now === undefined) continue
      for (const k of ['kvLeader', 'hotWarm'] as const) {
        const a = last[k]
        const b = now[k]
        // a holder missing for a moment (registry refresh) is not a change; a different one is
        if (b !== undefined && a !== undefined && (a.id !== b.id || a.epoch !== b.epoch)) changes[k].push(`${a.id}@${a.epoch} → ${b.id}@${b.epoch}`)
        if (b !== undefined) last = { ...last, [k]: b }
      }
    }
    console.log(`kv-leader leader changes: ${changes.kvLeader.length}${changes.kvLeader.length > 0 ? ` (${changes.kvLeader.join(', ')})` : ''}`)
    console.log(`hot-warm lease changes:   ${changes.hotWarm.length}${changes.hotWarm.length > 0 ? ` (${changes.hotWarm.join(', ')})` : ''}`)

    const samples: number[] = []
    for (let k = 0; k < kills; k++) {
      const leader = (await holders(gatewayUrl).catch(() => undefined))?.kvLeader
      if (leader === undefined) { await sleep(500); k--; continue }
      const t0 = performance.now()
      await control.instance(leader.id, 'kill')
      for (let i = 0; ; i++) {
        if (await put(`${gatewayUrl}/api/kv-leader/keys/failover-${k}`, `after-${i}`) < 300) break
        if (performance.now() - t0 > 30_000) throw new Error('no write acknowledged within 30 s of a kill')
        await sleep(10)
      }
      samples.push(performance.now() - t0)
      console.log(`kill ${k + 1}: ${leader.id} → first acknowledged write after ${Math.round(samples.at(-1)!)} ms`)
      // let the killed replica come back and catch up before the next kill
      await sleep(3_000)
    }
    await stopLoad()
    const sorted = [...samples].sort((a, b) => a - b)
    console.log(`kill -9 of the leader → first acknowledged write, ${samples.length} kills under ${hogs} hogs: p50 ${Math.round(percentile(sorted, 0.5))} ms, max ${Math.round(sorted.at(-1) ?? NaN)} ms`)
    console.log(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`)
  } finally {
    for (const h of hogProcs) h.kill('SIGKILL')
    await launcher?.shutdown().catch(() => {})
    killAll()
    rmSync(stateDir, { recursive: true, force: true })
  }
}

await main()
