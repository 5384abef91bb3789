import { resolveRead, type ReplicaAnswer } from './read-resolution.js'
import type { KvRecord } from './record.js'

/** One member of the configured replica set, as the coordinator sees it right now. */
export interface ReplicaTarget {
  id: string
  /** `undefined` when the replica is not registered: it counts as down, N does not shrink. */
  url: string | undefined
  self: boolean
}

/**
 * Why a replica did not store a write or answer a read, as far as the coordinator can tell.
 * - `unregistered`: not in the registry, so nothing was sent.
 * - `refused`: it does not have the write: the connection was refused (nothing sent), or the
 *   replica answered with an error status (it refused the write, e.g. past its deadline, or
 *   could not make it durable).
 * - `unknown`: the call was sent, then timed out or was cut: the replica may have stored it.
 */
export type ReplicaFailure = 'unregistered' | 'refused' | 'unknown'

/** One client request: a write of `record`, or a read of `key`, over every replica. */
export type CoordinationRequest =
  | { op: 'write', record: KvRecord, needed: number, targets: readonly ReplicaTarget[], deadline?: number | undefined }
  | { op: 'read', key: string, needed: number, targets: readonly ReplicaTarget[], deadline?: number | undefined }

export interface CoordinationState {
  readonly request: CoordinationRequest
  /** Replicas not heard from yet. */
  readonly waiting: readonly string[]
  /** Replicas that stored the write or answered the read, in the order they did. */
  readonly ok: readonly string[]
  /** Reads: what each answering replica holds. */
  readonly answers: readonly ReplicaAnswer[]
  /** The client has its answer; the request goes on for hints and read repair. */
  readonly answered: boolean
  /** Reads: the stale replicas still being repaired (filled once every replica was heard from). */
  readonly repairing: readonly string[]
}

/** The quorum's verdict, as sent to the client. */
export interface CoordinationOutcome {
  /** W (writes) or R (reads). */
  asked: number
  /** Replicas that stored (write) or answered (read) before the answer. */
  replicas: string[]
  reached: boolean
  /** Reads: the newest record among the answers (a tombstone means deleted). Writes: the record written. */
  record: KvRecord | undefined
  /** Reads: answering replicas behind `record`; read repair will send it to them. */
  stale: string[]
}

export type CoordinationEvent =
  /** The replica stored the write, or answered the read with what it holds. */
  | { type: 'replied', replica: string, record?: KvRecord | undefined }
  | { type: 'failed', replica: string, failure: ReplicaFailure, error: unknown }
  | { type: 'repaired', replica: string }
  | { type: 'repairFailed', replica: string, error: unknown }

export type CoordinationEffect =
  /** Store the record on the replica (the local one when `target.self`); reply with `replied` or `failed`. */
  | { type: 'put', target: ReplicaTarget, record: KvRecord, deadline: number | undefined }
  /** Read the key from the replica; reply with `replied` (and its record) or `failed`. */
  | { type: 'get', target: ReplicaTarget, key: string, deadline: number | undefined }
  /** Answer the client, exactly once. */
  | { type: 'answer', outcome: CoordinationOutcome }
  /** Keep the write for the replica that missed it (hinted handoff); `reason` labels the count. */
  | { type: 'hint', replica: string, record: KvRecord, reason: ReplicaFailure }
  /** Send the newest record to a replica a read found behind; reply with `repaired` or `repairFailed`. */
  | { type: 'repair', target: ReplicaTarget, record: KvRecord }
  | { type: 'log', level: 'error' | 'debug', message: string, replica: string, error: unknown }

export interface CoordinationStep { state: CoordinationState, effects: CoordinationEffect[] }

/**
 * The hint rule. A peer that did not store a write gets a hint whatever the failure: for
 * `unregistered` and `refused` it lacks the write; for `unknown` (a timeout or a
 * connection cut after sending) it may have it, and the hint is kept all the same, because
 * storing a record is idempotent by version (a redundant hint is a no-op on arrival) while a
 * missing one leaves the replica behind until anti-entropy. The reason labels the count, so
 * redundant hints show up as `unknown`. The local replica never gets a hint: the coordinator
 * cannot hand a write to itself later, and its failure is logged instead (anti-entropy repairs it).
 */
export function hintReason (target: ReplicaTarget, failure: ReplicaFailure): ReplicaFailure | undefined {
  return target.self ? undefined : failure
}

/** Starts a request: one call per registered replica; an unregistered one fails at once. */
export function begin (request: CoordinationRequest): CoordinationStep {
  let state: CoordinationState = {
    request,
    waiting: request.targets.map((t) => t.id),
    ok: [],
    answers: [],
    answered: false,
    repairing: []
  }
  const effects: CoordinationEffect[] = []
  for (const target of request.targets) {
    if (!target.self && target.url === undefined) continue
    effects.push(request.op === 'write'
      ? { type: 'put', target, record: request.record, deadline: request.deadline }
      : { type: 'get', target, key: request.key, deadline: request.deadline })
  }
  for (const target of request.targets) {
    if (target.self || target.url !== undefined) continue
    const next = step(state, { type: 'failed', replica: target.id, failure: 'unregistered', error: undefined })
    state = next.state
    effects.push(...next.effects)
  }
  return { state, effects }
}

/** One event in: the new state and what the driver must do. Events for no pending call are ignored. */
export function step (s: CoordinationState, event: CoordinationEvent): CoordinationStep {
  switch (event.type) {
    case 'replied': {
      if (!s.waiting.includes(event.replica)) return { state: s, effects: [] }
      return settle({
        ...s,
        waiting: without(s.waiting, event.replica),
        ok: [...s.ok, event.replica],
        answers: s.request.op === 'read' ? [...s.answers, { replica: event.replica, record: event.record }] : s.answers
      }, [])
    }
    case 'failed': {
      const target = s.request.targets.find((t) => t.id === event.replica)
      if (target === undefined || !s.waiting.includes(event.replica)) return { state: s, effects: [] }
      const effects: CoordinationEffect[] = []
      const { request } = s
      if (request.op === 'write') {
        const reason = hintReason(target, event.failure)
        if (reason !== undefined) effects.push({ type: 'hint', replica: target.id, record: request.record, reason })
      }
      if (target.self) effects.push({ type: 'log', level: 'error', message: `local ${request.op} failed`, replica: target.id, error: event.error })
      return settle({ ...s, waiting: without(s.waiting, event.replica) }, effects)
    }
    case 'repaired':
    case 'repairFailed': {
      if (!s.repairing.includes(event.replica)) return { state: s, effects: [] }
      const effects: CoordinationEffect[] = event.type === 'repairFailed'
        ? [{ type: 'log', level: 'debug', message: 'read repair failed; anti-entropy will retry', replica: event.replica, error: event.error }]
        : []
      return { state: { ...s, repairing: without(s.repairing, event.replica) }, effects }
    }
  }
}

/**
 * After a reply: answer once the quorum is reached, or once every replica has been heard from
 * (then without it). A read whose every replica was heard from repairs the stale ones: always
 * after the answer, so repair never delays the client.
 */
function settle (s: CoordinationState, effects: CoordinationEffect[]): CoordinationStep {
  const { request } = s
  const reached = s.ok.length >= request.needed
  const allHeard = s.waiting.length === 0
  let state = s
  if (!s.answered && (reached || allHeard)) {
    state = { ...state, answered: true }
    effects.push({ type: 'answer', outcome: outcomeOf(s) })
  }
  if (request.op === 'read' && allHeard) {
    const { newest, stale } = resolveRead(s.answers)
    if (newest !== undefined && stale.length > 0) {
      for (const id of stale) {
        const target = request.targets.find((t) => t.id === id)
        if (target !== undefined) effects.push({ type: 'repair', target, record: newest })
      }
      state = { ...state, repairing: stale }
    }
  }
  return { state, effects }
}

function outcomeOf (s: CoordinationState): CoordinationOutcome {
  const { request } = s
  const base = { asked: request.needed, replicas: [...s.ok], reached: s.ok.length >= request.needed }
  if (request.op === 'write') return { ...base, record: request.record, stale: [] }
  const { newest, stale } = resolveRead(s.answers)
  return { ...base, record: newest, stale }
}

function without (ids: readonly string[], id: string): string[] {
  return ids.filter((x) => x !== id)
}
