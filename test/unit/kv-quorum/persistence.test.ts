import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { AppendLog } from '../../../services/kv-quorum/src/adapters/persistence.js'
import type { KvRecord } from '../../../services/kv-quorum/src/core/record.js'
import { VersionedStore } from '../../../services/kv-quorum/src/core/store.js'

const dirs: string[] = []
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }) })

const rec = (key: string, t: number, value: string | null = `v${t}`): KvRecord => ({ key, value: value === null ? null : Buffer.from(value), version: { t, c: 0, n: 'a' } })

async function openLog (dir: string, compactRatio = 4): Promise<{ log: AppendLog, store: VersionedStore, opened: { replayed: number, corrupt: number } }> {
  const store = new VersionedStore()
  const log = new AppendLog({ dir, compactRatio, onRecord: (r) => { store.apply(r) }, snapshot: () => store.records() })
  const opened = await log.open(() => store.size)
  return { log, store, opened }
}

describe('AppendLog (a replica on disk)', () => {
  it('replays what was appended, newest version winning, tombstones included', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kvq-log-'))
    dirs.push(root)
    const dir = join(root, 'data') // created on open
    const first = await openLog(dir)
    for (const r of [rec('a', 2), rec('a', 1), rec('b', 1), rec('b', 3, null)]) {
      first.store.apply(r)
      await first.log.append(r)
    }
    await first.log.close()
    const second = await openLog(dir)
    expect(second.opened).toEqual({ replayed: 4, corrupt: 0 })
    expect(second.store.get('a')?.value?.toString()).toBe('v2')
    expect(second.store.get('b')?.value).toBeNull()
    await second.log.close()
  })

  it('skips a torn last line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvq-log-'))
    dirs.push(dir)
    const first = await openLog(dir)
    await first.log.append(rec('a', 1))
    await first.log.close()
    appendFileSync(join(dir, 'records.log'), '{"key":"b","val')
    const second = await openLog(dir)
    expect(second.opened).toEqual({ replayed: 1, corrupt: 1 })
    await second.log.close()
  })

  it('compacts to the live records once the log outgrows them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvq-log-'))
    dirs.push(dir)
    const { log, store } = await openLog(dir, 2)
    const writes: Array<Promise<void>> = []
    for (let t = 1; t <= 1_500; t++) {
      const r = rec(`k${t % 10}`, t)
      store.apply(r)
      writes.push(log.append(r))
    }
    await Promise.all(writes)
    await log.compact()
    const lines = readFileSync(join(dir, 'records.log'), 'utf8').trim().split('\n')
    expect(lines.length).toBe(10)
    await log.append(rec('k0', 2_000))
    await log.close()
    const again = await openLog(dir)
    expect(again.store.size).toBe(10)
    expect(again.store.get('k0')?.version.t).toBe(2_000)
    await again.log.close()
  })
})
