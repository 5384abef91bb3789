import { describe, expect, it } from 'vitest'
import { SingleFlight } from '../../../shared/src/cache/single-flight.js'

function deferred<T> (): { promise: Promise<T>, resolve: (v: T) => void } {
  let resolve!: (v: T) => void
  const promise = new Promise<T>((_resolve) => { resolve = _resolve })
  return { promise, resolve }
}

describe('SingleFlight', () => {
  it('runs one execution for concurrent identical keys, and names its leader', async () => {
    const flights = new SingleFlight<number>()
    let runs = 0
    const gate = deferred<number>()
    const fn = async (): Promise<number> => { runs++; return await gate.promise }
    const all = Array.from({ length: 10 }, async () => await flights.do('k', fn))
    gate.resolve(42)
    const results = await Promise.all(all)
    expect(runs).toBe(1)
    expect(results.map((r) => r.value)).toEqual(Array(10).fill(42))
    expect(results.filter((r) => r.leader)).toHaveLength(1)
    expect(flights.size).toBe(0)
  })

  it('keeps different keys apart and starts afresh after completion', async () => {
    const flights = new SingleFlight<string>()
    const [a, b] = await Promise.all([flights.do('a', async () => 'A'), flights.do('b', async () => 'B')])
    expect([a.value, b.value]).toEqual(['A', 'B'])
    expect((await flights.do('a', async () => 'A2')).value).toBe('A2')
  })

  it('shares a failure with every waiter', async () => {
    const flights = new SingleFlight<number>()
    const all = [1, 2, 3].map(async () => await flights.do('k', async () => { throw new Error('boom') }))
    for (const p of all) await expect(p).rejects.toThrow('boom')
  })

  it('cancels the execution only when every waiter has gone', async () => {
    const flights = new SingleFlight<number>()
    let seen: AbortSignal | undefined
    const gate = deferred<number>()
    const one = new AbortController()
    const two = new AbortController()
    const p1 = flights.do('k', async (signal) => { seen = signal; return await gate.promise }, one.signal)
    const p2 = flights.do('k', async () => 0, two.signal)
    one.abort()
    await expect(p1).rejects.toThrow()
    expect(seen?.aborted).toBe(false)
    two.abort()
    await expect(p2).rejects.toThrow()
    expect(seen?.aborted).toBe(true)
    // a new caller does not join the cancelled execution
    expect((await flights.do('k', async () => 7)).value).toBe(7)
    gate.resolve(1)
  })

  it('a waiter without a signal keeps the execution alive', async () => {
    const flights = new SingleFlight<number>()
    let seen: AbortSignal | undefined
    const gate = deferred<number>()
    const leaving = new AbortController()
    const p1 = flights.do('k', async (signal) => { seen = signal; return await gate.promise })
    const p2 = flights.do('k', async () => 0, leaving.signal)
    leaving.abort()
    await expect(p2).rejects.toThrow()
    gate.resolve(5)
    expect((await p1).value).toBe(5)
    expect(seen?.aborted).toBe(false)
  })
})
