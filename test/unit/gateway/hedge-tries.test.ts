import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { runTries, type SettledTry, type TriesOptions } from '../../../gateway/src/proxy/hedge.js'
import type { ProxyTry, TryOutcome } from '../../../gateway/src/proxy/proxy-try.js'
import type { Upstream } from '../../../gateway/src/upstreams/upstream.js'

/**
 * The race between a try and its hedge, with fake tries passed in through `start` and fake
 * timers: which try answers, which loses (and with what grace), what the budget and the deadline
 * allow. How a loser is read or cancelled on a real connection: test/integration/proxy-try-lose.
 */
interface FakeTry {
  upstream: string
  aborted: Error | undefined
  /** The grace it was given when its rival answered first (ProxyTry.lose). */
  lostWithGraceMs: number | undefined
  /** The instance answers: the try claims the response (false: the other had it) and finishes. */
  answer: (status?: number) => boolean
  fail: (code: string) => void
}

function harness (overrides: Partial<TriesOptions> & { budget?: boolean, delayMs?: number, second?: string | undefined } = {}) {
  const tries: FakeTry[] = []
  const others: Array<{ settled: SettledTry, cancelled: boolean }> = []
  const hedges: string[] = []
  /** For each race between a try and its hedge, whether the hedge paid (Hedging judges by these). */
  const races: boolean[] = []
  const up = (id: string): Upstream => ({ id }) as unknown as Upstream
  const start: TriesOptions['start'] = (upstream, claim) => {
    let settle!: (o: TryOutcome) => void
    const done = new Promise<TryOutcome>((resolve) => { settle = resolve })
    const attempt = {
      done,
      abort: (reason: Error) => { fake.aborted = reason; settle({ ok: false, error: reason, responseStarted: false, answerStarted: false }) },
      lose: (graceMs: number) => { fake.lostWithGraceMs = graceMs }
    } as unknown as ProxyTry
    const fake: FakeTry = {
      upstream: upstream.id,
      aborted: undefined,
      lostWithGraceMs: undefined,
      answer: (status = 200) => {
        if (claim !== undefined && !claim(attempt)) {
          settle({ ok: true, status }) // a loser answering within its grace is read to its end
          return false
        }
        settle({ ok: true, status })
        return true
      },
      fail: (code) => settle({ ok: false, error: Object.assign(new Error(code), { code }), responseStarted: false, answerStarted: false })
    }
    tries.push(fake)
    return attempt
  }
  const second = 'second' in overrides ? overrides.second : 'b'
  const run = runTries(up('a'), {
    start,
    hedge: { service: 's', delayMs: overrides.delayMs ?? 20, acquire: () => overrides.budget === false ? 'denied' : 'sent', paid: (_first, paid) => { races.push(paid) } },
    pickSecond: () => second === undefined ? undefined : up(second),
    onOther: (settled, cancelled) => { others.push({ settled, cancelled }) },
    onHedge: (_service, event) => { hedges.push(event) },
    deadline: Date.now() + 1_000,
    now: () => Date.now(),
    ...overrides
  })
  return { run, tries, others, hedges, races }
}

beforeEach(() => { vi.useFakeTimers() })
afterEach(() => { vi.useRealTimers() })

describe('runTries (hedged)', () => {
  it('sends nothing more when the first try answers before the hedge delay', async () => {
    const { run, tries, hedges } = harness()
    await vi.advanceTimersByTimeAsync(10)
    tries[0]!.answer()
    await vi.advanceTimersByTimeAsync(100)
    expect((await run.done).upstream.id).toBe('a')
    expect(tries).toHaveLength(1)
    expect(hedges).toEqual([])
  })

  it('hedges after the delay; the hedge answers first and the slow try loses, with the hedge delay as its grace', async () => {
    const { run, tries, others, hedges, races } = harness()
    await vi.advanceTimersByTimeAsync(19)
    expect(tries).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(tries.map((t) => t.upstream)).toEqual(['a', 'b'])
    expect(tries[1]!.answer()).toBe(true)
    const decided = await run.done
    expect(decided.upstream.id).toBe('b')
    expect(decided.outcome).toEqual({ ok: true, status: 200 })
    expect(tries[0]!.lostWithGraceMs).toBe(20)
    expect(tries[0]!.aborted).toBeUndefined()
    expect(races).toEqual([]) // not decided until the loser ends
    tries[0]!.fail('HEDGE_LOST') // cancelled once its grace ran out
    await vi.advanceTimersByTimeAsync(0)
    expect(others).toHaveLength(1)
    expect(others[0]).toMatchObject({ cancelled: true, settled: { upstream: { id: 'a' } } })
    expect(hedges).toEqual(['sent', 'won', 'paid'])
    expect(races).toEqual([true])
    expect(tries[0]!.answer()).toBe(false) // a late answer from the loser never claims the response
  })

  it('keeps the first try when it answers after the hedge went out; the hedge loses', async () => {
    const { run, tries, hedges, races } = harness()
    await vi.advanceTimersByTimeAsync(25)
    tries[0]!.answer()
    expect((await run.done).upstream.id).toBe('a')
    expect(tries[1]!.lostWithGraceMs).toBe(20)
    expect(hedges).toEqual(['sent'])
    expect(races).toEqual([false])
  })

  it('sends no hedge when the budget says no', async () => {
    const { run, tries, hedges } = harness({ budget: false })
    await vi.advanceTimersByTimeAsync(100)
    expect(tries).toHaveLength(1)
    expect(hedges).toEqual(['denied'])
    tries[0]!.answer()
    expect((await run.done).upstream.id).toBe('a')
  })

  it('sends no hedge when there is no other instance', async () => {
    const { tries, hedges } = harness({ second: undefined })
    await vi.advanceTimersByTimeAsync(100)
    expect(tries).toHaveLength(1)
    expect(hedges).toEqual([])
  })

  it('never hedges past the deadline', async () => {
    const { tries } = harness({ delayMs: 20, deadline: Date.now() + 15 })
    await vi.advanceTimersByTimeAsync(100)
    expect(tries).toHaveLength(1)
  })

  it('hands a failure of the first try to the retry rules at once when no hedge is out', async () => {
    const { run, tries } = harness()
    await vi.advanceTimersByTimeAsync(5)
    tries[0]!.fail('ECONNRESET')
    const decided = await run.done
    expect(decided.outcome.ok).toBe(false)
    await vi.advanceTimersByTimeAsync(100)
    expect(tries).toHaveLength(1) // the timer was cleared: the retry rules take over, not a late hedge
  })

  it('counts a hedge that won by a hair, its rival answering within the grace, as not paid', async () => {
    const { run, tries, hedges, races } = harness()
    await vi.advanceTimersByTimeAsync(20)
    tries[1]!.answer()
    expect((await run.done).upstream.id).toBe('b')
    expect(tries[0]!.answer()).toBe(false)
    await vi.advanceTimersByTimeAsync(0)
    expect(hedges).toEqual(['sent', 'won'])
    expect(races).toEqual([false])
  })

  it('lets a try that fails give way to its rival still running, and reports the failure', async () => {
    const { run, tries, others, races } = harness()
    await vi.advanceTimersByTimeAsync(20)
    tries[0]!.fail('ECONNRESET')
    await vi.advanceTimersByTimeAsync(0)
    expect(others).toMatchObject([{ cancelled: false, settled: { upstream: { id: 'a' }, outcome: { ok: false } } }])
    tries[1]!.answer()
    expect((await run.done).upstream.id).toBe('b')
    expect(races).toEqual([true]) // the hedge saved the request
  })

  it('cancels every try when the client leaves', async () => {
    const { run, tries } = harness()
    await vi.advanceTimersByTimeAsync(20)
    run.abort(new Error('client gone'))
    const decided = await run.done
    expect(decided.outcome.ok).toBe(false)
    expect(tries.every((t) => t.aborted?.message === 'client gone')).toBe(true)
  })
})

describe('runTries (not hedgeable)', () => {
  it('runs one try and never arms a timer', async () => {
    const { run, tries } = harness({ hedge: undefined })
    expect(vi.getTimerCount()).toBe(0)
    tries[0]!.answer(503)
    expect((await run.done).outcome).toEqual({ ok: true, status: 503 })
  })
})
