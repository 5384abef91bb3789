import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import type { FaultEvent } from './core/analysis.js'
import { pickInstance, type PlannedFault } from './core/schedule.js'
import { fetchRegistry, type ControlClient } from './adapters/cluster.js'

export interface FaultRunOptions {
  control: ControlClient
  gatewayUrl: string
  /** Monotonic ms since the run started. */
  clock: () => number
  signal?: AbortSignal
  log?: (line: string) => void
}

export interface FaultRunResult {
  events: FaultEvent[]
  /** Hot-warm takeovers, kill of the hot → the sink accepted the first output of the new epoch, ms. */
  takeovers: number[]
  takeoversMissing: number
  /** Kill of the hot → the registry shows another instance `hot`, ms. */
  roleChanges: number[]
  roleChangesMissing: number
}

/**
 * Carries out a fault schedule through the launcher's control API. Faults run one after the
 * other (a fault due while the previous one is still going, e.g. a freeze, waits for it), so at
 * most one instance is down by our hand at a time besides the launcher's own restart delay. A
 * frozen process is always thawed, even when the run is aborted.
 */
export async function runFaults (plan: readonly PlannedFault[], opts: FaultRunOptions): Promise<FaultRunResult> {
  const result: FaultRunResult = { events: [], takeovers: [], takeoversMissing: 0, roleChanges: [], roleChangesMissing: 0 }
  const watches: Array<Promise<void>> = []
  const frozen = new Set<string>()
  const log = opts.log ?? (() => {})
  try {
    for (const fault of plan) {
      const wait = fault.atMs - opts.clock()
      if (wait > 0) await sleep(wait, undefined, { signal: opts.signal }).catch(() => {})
      if (opts.signal?.aborted === true) break
      const event = await execute(fault, opts, frozen, (target, atMs, killedAtWallMs, epochBefore) => {
        watches.push(watchRoleChange(opts, target, atMs).then((ms) => {
          if (ms === undefined) result.roleChangesMissing++
          else result.roleChanges.push(ms)
        }))
        if (epochBefore !== undefined) {
          watches.push(watchAcceptedEpoch(opts, epochBefore, killedAtWallMs, atMs).then((ms) => {
            if (ms === undefined) result.takeoversMissing++
            else result.takeovers.push(ms)
          }))
        }
      })
      result.events.push(event)
      log(`${(event.atMs / 1_000).toFixed(1).padStart(6)} s  ${event.kind.padEnd(13)} ${event.target ?? event.service ?? ''}${event.skipped !== undefined ? `  (skipped: ${event.skipped})` : ''}`)
    }
  } finally {
    for (const id of frozen) await opts.control.instance(id, 'cont').catch(() => {})
  }
  await Promise.all(watches)
  return result
}

type OnHotKilled = (target: string, atMs: number, killedAtWallMs: number, epochBefore: number | undefined) => void

async function execute (fault: PlannedFault, opts: FaultRunOptions, frozen: Set<string>, onHotKilled: OnHotKilled): Promise<FaultEvent> {
  const base = { kind: fault.kind, ...(fault.service !== undefined ? { service: fault.service } : {}) }
  const skipped = (why: string): FaultEvent => ({ ...base, atMs: opts.clock(), endMs: opts.clock(), skipped: why })
  try {
    if (fault.kind === 'redis-restart') {
      const atMs = opts.clock()
      await opts.control.redisRestart()
      return { ...base, atMs, endMs: opts.clock(), target: 'redis' }
    }
    let target: string | undefined
    if (fault.kind === 'kill-leader' || fault.kind === 'kill-hot') {
      const role = fault.kind === 'kill-leader' ? 'leader' : 'hot'
      const registry = await fetchRegistry(opts.gatewayUrl)
      target = pickInstance((registry[fault.service!] ?? []).filter((i) => i.role === role), fault.pick)?.id
      if (target === undefined) return skipped(`no ${fault.service!} instance has the role ${role} in the registry`)
    } else {
      const running = (await opts.control.instances()).filter((i) => i.service === fault.service && i.state === 'running')
      target = pickInstance(running, fault.pick)?.id
      if (target === undefined) return skipped(`no running ${fault.service!} instance`)
    }
    const epochBefore = fault.kind === 'kill-hot' ? await acceptedEpoch(opts.gatewayUrl) : undefined
    const atMs = opts.clock()
    const wallMs = Date.now()
    switch (fault.kind) {
      case 'kill':
      case 'kill-leader':
        await opts.control.instance(target, 'kill')
        break
      case 'kill-hot':
        await opts.control.instance(target, 'kill')
        onHotKilled(target, atMs, wallMs, epochBefore?.epoch)
        break
      case 'freeze':
        await opts.control.instance(target, 'stop')
        frozen.add(target)
        await sleep(fault.freezeMs ?? 2_000)
        await opts.control.instance(target, 'cont')
        frozen.delete(target)
        break
      case 'restart':
        // graceful: the launcher waits for the new process to be ready before answering
        await opts.control.instance(target, 'restart')
        break
    }
    return { ...base, target, atMs, endMs: opts.clock() }
  } catch (err) {
    return skipped((err as Error).message)
  }
}

/** The hot-warm pair's newest epoch with an accepted output at the sink (`GET /api/sink/stats`), if the sink answers. */
async function acceptedEpoch (gatewayUrl: string): Promise<{ epoch: number, atMs: number } | undefined> {
  try {
    const res = await request(`${gatewayUrl}/api/sink/stats`, { signal: AbortSignal.timeout(1_000) })
    if (res.statusCode !== 200) {
      await res.body.dump()
      return undefined
    }
    const pair = ((await res.body.json()) as { pairs?: Record<string, { acceptedEpoch?: unknown, acceptedEpochAt?: unknown }> }).pairs?.['hot-warm']
    if (typeof pair?.acceptedEpoch !== 'number' || typeof pair.acceptedEpochAt !== 'number') return undefined
    return { epoch: pair.acceptedEpoch, atMs: pair.acceptedEpochAt }
  } catch {
    return undefined
  }
}

/**
 * The takeover as issue 3 defines it: from the kill to the first output of the new hot (a newer
 * epoch) accepted by the sink, which stamps that moment with Redis's clock (the same machine's
 * wall clock as `killedAtWallMs`).
 */
async function watchAcceptedEpoch (opts: FaultRunOptions, before: number, killedAtWallMs: number, atMs: number, timeoutMs = 10_000): Promise<number | undefined> {
  while (opts.clock() - atMs < timeoutMs) {
    const now = await acceptedEpoch(opts.gatewayUrl)
    if (now !== undefined && now.epoch > before) return Math.max(0, now.atMs - killedAtWallMs)
    await sleep(50)
  }
  return undefined
}

/** Polls the registry until another ledger-hw instance is `hot`: the role change, seen from outside. */
async function watchRoleChange (opts: FaultRunOptions, killed: string, atMs: number, timeoutMs = 10_000): Promise<number | undefined> {
  while (opts.clock() - atMs < timeoutMs) {
    try {
      const registry = await fetchRegistry(opts.gatewayUrl, 1_000)
      if ((registry['ledger-hw'] ?? []).some((i) => i.id !== killed && i.role === 'hot')) return opts.clock() - atMs
    } catch {}
    await sleep(20)
  }
  return undefined
}
