import { describe, expect, it } from 'vitest'
import {
  begin,
  hintReason,
  step,
  type CoordinationEffect,
  type CoordinationEvent,
  type CoordinationRequest,
  type CoordinationState,
  type ReplicaFailure,
  type ReplicaTarget
} from '../../../services/kv-quorum/src/core/coordination.js'
import type { KvRecord } from '../../../services/kv-quorum/src/core/record.js'

type Id = 'a' | 'b' | 'c'

/** `a` is the coordinator itself; `b` and `c` are peers. */
function targets (unregistered: readonly Id[] = []): ReplicaTarget[] {
  return (['a', 'b', 'c'] as const).map((id) => ({ id, url: id === 'a' || unregistered.includes(id) ? undefined : `http://${id}`, self: id === 'a' }))
}

const versions = { v1: 1, v2: 2, v3: 3 } as const
type V = keyof typeof versions
const rec = (v: V): KvRecord => ({ key: 'k', value: Buffer.from(v), version: { t: versions[v], c: 0, n: 'x' } })
const written = rec('v3')

const writeOf = (w: number, unregistered: readonly Id[] = [], deadline?: number): CoordinationRequest =>
  ({ op: 'write', record: written, needed: w, targets: targets(unregistered), deadline })
const readOf = (r: number, unregistered: readonly Id[] = []): CoordinationRequest =>
  ({ op: 'read', key: 'k', needed: r, targets: targets(unregistered) })

/**
 * Events as short strings: `b ok` (stored / answered without the key), `b ok v2` (answered
 * with v2), `c refused`, `c unknown`, `a repaired`, `c repair-failed`.
 */
function event (s: string): CoordinationEvent {
  const [replica = '', what = '', v] = s.split(' ')
  switch (what) {
    case 'ok': return { type: 'replied', replica, record: v === undefined ? undefined : rec(v as V) }
    case 'refused':
    case 'unknown': return { type: 'failed', replica, failure: what, error: new Error(what) }
    case 'repaired': return { type: 'repaired', replica }
    case 'repair-failed': return { type: 'repairFailed', replica, error: new Error('repair') }
    default: throw new Error(`bad event ${s}`)
  }
}

const valueOf = (r: KvRecord | undefined): string => r?.value?.toString() ?? 'none'

/** Effects as short strings, in the order the machine emitted them. */
function show (e: CoordinationEffect): string {
  switch (e.type) {
    case 'put': return `put ${e.target.id}`
    case 'get': return `get ${e.target.id}`
    case 'answer': {
      const o = e.outcome
      const head = `answer ${o.reached ? 'ok' : 'no-quorum'} [${o.replicas.join(',')}]`
      return o.record === written ? head : `${head} ${valueOf(o.record)} stale [${o.stale.join(',')}]`
    }
    case 'hint': return `hint ${e.replica} ${e.reason}`
    case 'repair': return `repair ${e.target.id} ${valueOf(e.record)}`
    case 'log': return `log ${e.level} ${e.replica}`
  }
}

interface Case {
  name: string
  request: CoordinationRequest
  /** Effects of `begin`. */
  begin: string[]
  /** Each event and the effects it must produce. */
  then: Array<[string, string[]]>
}

const cases: Case[] = [
  // writes
  {
    name: 'write: W reached before the slowest replica answers: answer early, then keep going and hint the late failure',
    request: writeOf(2),
    begin: ['put a', 'put b', 'put c'],
    then: [['a ok', []], ['b ok', ['answer ok [a,b]']], ['c unknown', ['hint c unknown']]]
  },
  {
    name: 'write: W reached, the slowest replica stores it too: no hint',
    request: writeOf(2),
    begin: ['put a', 'put b', 'put c'],
    then: [['b ok', []], ['a ok', ['answer ok [b,a]']], ['c ok', []]]
  },
  {
    name: 'write: W never reached: no-quorum once every replica was heard from, with the ones that stored it',
    request: writeOf(3),
    begin: ['put a', 'put b', 'put c'],
    then: [['a ok', []], ['b refused', ['hint b refused']], ['c unknown', ['hint c unknown', 'answer no-quorum [a]']]]
  },
  {
    name: 'write: W=1 answers at the first store; a refusal after the answer is still hinted',
    request: writeOf(1),
    begin: ['put a', 'put b', 'put c'],
    then: [['b ok', ['answer ok [b]']], ['a ok', []], ['c refused', ['hint c refused']]]
  },
  {
    name: 'write: every replica fails: no-quorum with none, the peers hinted, the local failure logged',
    request: writeOf(1),
    begin: ['put a', 'put b', 'put c'],
    then: [['b unknown', ['hint b unknown']], ['c refused', ['hint c refused']], ['a unknown', ['log error a', 'answer no-quorum []']]]
  },
  {
    name: 'write: the local replica failing is logged, never hinted; the peers still make W',
    request: writeOf(2),
    begin: ['put a', 'put b', 'put c'],
    then: [['a unknown', ['log error a']], ['b ok', []], ['c ok', ['answer ok [b,c]']]]
  },
  {
    name: 'write: an unregistered replica is not called, is hinted at once, and counts as failed (N stays 3)',
    request: writeOf(3, ['c']),
    begin: ['put a', 'put b', 'hint c unregistered'],
    then: [['a ok', []], ['b ok', ['answer no-quorum [a,b]']]]
  },
  {
    name: 'write: two unregistered replicas, W=2: no-quorum as soon as the local store is done',
    request: writeOf(2, ['b', 'c']),
    begin: ['put a', 'hint b unregistered', 'hint c unregistered'],
    then: [['a ok', ['answer no-quorum [a]']]]
  },
  {
    name: 'write: a second reply from one replica, and replies from strangers, change nothing',
    request: writeOf(2),
    begin: ['put a', 'put b', 'put c'],
    then: [['b ok', []], ['b ok', []], ['b refused', []], ['z ok', []], ['z refused', []], ['a ok', ['answer ok [b,a]']], ['a repaired', []]]
  },
  // reads
  {
    name: 'read: R reached with the newest so far; once all were heard from, every stale replica is repaired',
    request: readOf(2),
    begin: ['get a', 'get b', 'get c'],
    then: [
      ['a ok v1', []],
      ['b ok v2', ['answer ok [a,b] v2 stale [a]']],
      ['c ok', ['repair a v2', 'repair c v2']],
      ['a repaired', []],
      ['c repair-failed', ['log debug c']]
    ]
  },
  {
    name: 'read: R=N: the answer comes before the repairs in the same step',
    request: readOf(3),
    begin: ['get a', 'get b', 'get c'],
    then: [['c ok v2', []], ['a ok v1', []], ['b ok v2', ['answer ok [c,a,b] v2 stale [a]', 'repair a v2']]]
  },
  {
    name: 'read: R reached, a replica hangs: no repair until it is heard from (here: it times out)',
    request: readOf(2),
    begin: ['get a', 'get b', 'get c'],
    then: [['a ok v2', []], ['b ok v1', ['answer ok [a,b] v2 stale [b]']], ['c unknown', ['repair b v2']]]
  },
  {
    name: 'read: R never reached: no-quorum once all were heard from; the stale answerers are still repaired',
    request: readOf(3),
    begin: ['get a', 'get b', 'get c'],
    then: [['a ok v1', []], ['c refused', []], ['b ok v2', ['answer no-quorum [a,b] v2 stale [a]', 'repair a v2']]]
  },
  {
    name: 'read: everyone agrees: nothing to repair',
    request: readOf(2),
    begin: ['get a', 'get b', 'get c'],
    then: [['a ok v2', []], ['b ok v2', ['answer ok [a,b] v2 stale []']], ['c ok v2', []]]
  },
  {
    name: 'read: no replica has the key: not found, nothing to repair',
    request: readOf(2),
    begin: ['get a', 'get b', 'get c'],
    then: [['a ok', []], ['b ok', ['answer ok [a,b] none stale []']], ['c ok', []]]
  },
  {
    name: 'read: a stale answer after the answer is repaired with the others',
    request: readOf(1),
    begin: ['get a', 'get b', 'get c'],
    then: [['b ok v3', ['answer ok [b] v3 stale []']], ['c ok v1', []], ['a ok', ['repair c v3', 'repair a v3']]]
  },
  {
    name: 'read: the local replica failing is logged; reads never hint',
    request: readOf(2),
    begin: ['get a', 'get b', 'get c'],
    then: [['a unknown', ['log error a']], ['b refused', []], ['c ok v1', ['answer no-quorum [c] v1 stale []']]]
  },
  {
    name: 'read: an unregistered replica is not called and counts as failed; no hint for a read',
    request: readOf(2, ['b']),
    begin: ['get a', 'get c'],
    then: [['c ok v2', []], ['a ok v1', ['answer ok [c,a] v2 stale [a]', 'repair a v2']], ['a repaired', []], ['a repaired', []]]
  }
]

function replay (request: CoordinationRequest, events: readonly string[]): { state: CoordinationState, effects: string[][] } {
  const first = begin(request)
  let state = first.state
  const effects = [first.effects.map(show)]
  for (const e of events) {
    const next = step(state, event(e))
    state = next.state
    effects.push(next.effects.map(show))
  }
  return { state, effects }
}

describe('the coordination state machine', () => {
  it.each(cases)('$name', ({ request, begin: atBegin, then }) => {
    const { effects } = replay(request, then.map(([e]) => e))
    expect(effects).toEqual([atBegin, ...then.map(([, expected]) => expected)])
  })

  it('passes the client deadline on to every replica call', () => {
    const { effects } = begin(writeOf(2, ['c'], 1_234))
    expect(effects.filter((e) => e.type === 'put').map((e) => e.deadline)).toEqual([1_234, 1_234])
  })

  it('is pure: replaying a step gives the same result and leaves the old state as it was', () => {
    const { state } = begin(readOf(2))
    const before = JSON.stringify(state)
    const once = step(state, event('a ok v1'))
    const twice = step(state, event('a ok v1'))
    expect(JSON.stringify(once)).toEqual(JSON.stringify(twice))
    expect(JSON.stringify(state)).toEqual(before)
  })
})

describe('the hint rule', () => {
  it.each<[string, boolean, ReplicaFailure, ReplicaFailure | undefined]>([
    ['unregistered peer: certainly lacks it', false, 'unregistered', 'unregistered'],
    ['peer refused (connection refused, error status): certainly lacks it', false, 'refused', 'refused'],
    ['peer timed out or cut after sending: may have it; hinted anyway (idempotent), labelled apart', false, 'unknown', 'unknown'],
    ['local replica refused: no hint to itself', true, 'refused', undefined],
    ['local replica failed otherwise: no hint to itself', true, 'unknown', undefined]
  ])('%s', (_name, self, failure, expected) => {
    expect(hintReason({ id: 'x', url: self ? undefined : 'http://x', self }, failure)).toBe(expected)
  })
})

/**
 * Every order in which three replicas can reply, each either storing/answering or failing, for
 * every quorum size: the invariants hold whatever the order.
 */
describe('invariants over every reply order', () => {
  const outcomes = { write: ['ok', 'refused', 'unknown'], read: ['ok', 'ok v1', 'ok v2', 'refused', 'unknown'] }
  const orders: Id[][] = [['a', 'b', 'c'], ['a', 'c', 'b'], ['b', 'a', 'c'], ['b', 'c', 'a'], ['c', 'a', 'b'], ['c', 'b', 'a']]
  const runs: Array<{ op: 'write' | 'read', needed: number, events: string[] }> = []
  for (const op of ['write', 'read'] as const) {
    const triples = outcomes[op].flatMap((x) => outcomes[op].flatMap((y) => outcomes[op].map((z) => [x, y, z])))
    for (const needed of [1, 2, 3]) {
      for (const order of orders) {
        for (const out of triples) runs.push({ op, needed, events: order.map((id, i) => `${id} ${out[i] ?? ''}`) })
      }
    }
  }

  it(`holds for all ${runs.length} runs`, () => {
    const violations: string[] = []
    for (const { op, needed, events } of runs) {
      const first = begin(op === 'write' ? writeOf(needed) : readOf(needed))
      let state = first.state
      // each effect with how many replicas had been heard from when it was emitted
      const stream: Array<{ effect: CoordinationEffect, heard: number }> = first.effects.map((effect) => ({ effect, heard: 0 }))
      let ok = 0
      let due = -1
      for (const [i, e] of events.entries()) {
        const ev = event(e)
        if (ev.type === 'replied') ok++
        const next = step(state, ev)
        state = next.state
        for (const effect of next.effects) stream.push({ effect, heard: i + 1 })
        if (due < 0 && (ok >= needed || i === events.length - 1)) due = i + 1
      }
      const check = (holds: boolean, what: string): void => { if (!holds) violations.push(`${op} ${needed} [${events.join(', ')}]: ${what}`) }
      const ids = (type: CoordinationEffect['type']): string[] => stream.flatMap(({ effect: e }) => e.type !== type ? [] : e.type === 'hint' ? [e.replica] : 'target' in e ? [e.target.id] : []).sort()
      const answers = stream.filter((s) => s.effect.type === 'answer')
      const answer = answers[0]
      check(answers.length === 1, `${answers.length} answers`)
      check(answer?.heard === due, `answered after ${answer?.heard} replies, due after ${due}`)
      if (answer?.effect.type === 'answer') check(answer.effect.outcome.reached === (answer.effect.outcome.replicas.length >= needed), 'reached disagrees with the count')
      const failedPeers = events.filter((e) => !e.startsWith('a ') && !e.includes(' ok')).map((e) => e.split(' ')[0] ?? '').sort()
      check(String(ids('hint')) === String(op === 'write' ? failedPeers : []), `hinted [${ids('hint')}]`)
      const answerAt = stream.findIndex((s) => s.effect.type === 'answer')
      for (const [i, s] of stream.entries()) {
        if (s.effect.type === 'repair') check(s.heard === 3 && i > answerAt, 'repair before every replica was heard from, or before the answer')
      }
      const newest = events.some((e) => e.endsWith('v2')) ? 'v2' : events.some((e) => e.endsWith('v1')) ? 'v1' : undefined
      const behind = newest === undefined ? [] : events.filter((e) => e.includes(' ok') && !e.endsWith(newest)).map((e) => e.split(' ')[0] ?? '').sort()
      check(String(ids('repair')) === String(op === 'read' ? behind : []), `repaired [${ids('repair')}]`)
      check(state.answered && state.waiting.length === 0, 'not finished')
    }
    expect(violations.slice(0, 10)).toEqual([])
  })
})
