import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { LogFile, type FsyncMode } from '../../../services/kv-leader/src/adapters/log-file.js'
import type { Entry } from '../../../services/kv-leader/src/core/types.js'

const dirs: string[] = []
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }) })

function fresh (fsync: FsyncMode = 'always'): LogFile {
  const dir = mkdtempSync(join(tmpdir(), 'kvl-logfile-'))
  dirs.push(dir)
  return new LogFile({ dir: join(dir, 'nested'), fsync, fsyncIntervalMs: 5 })
}

const put = (index: number, epoch: number, value: string): Entry => ({ index, epoch, op: 'put', key: `k${index}`, value: Buffer.from(value) })

describe('kv-leader log file', () => {
  it.each(['always', 'interval', 'never'] as const)('appends in order, records truncations, and replays them (fsync %s)', async (mode) => {
    const file = fresh(mode)
    expect((await file.open()).log.lastIndex).toBe(0)
    await Promise.all([file.append([put(1, 1, 'a')]), file.append([put(2, 1, 'b'), put(3, 1, 'c')]), file.truncate(3), file.append([put(3, 2, 'C')])])
    await file.close()
    const again = new LogFile({ dir: join(file.path, '..'), fsync: mode, fsyncIntervalMs: 5 })
    const { log } = await again.open()
    expect(log.lastIndex).toBe(3)
    expect(log.entry(3)).toMatchObject({ epoch: 2, value: Buffer.from('C') })
    await again.close()
  })

  it('cuts a torn tail on open so later appends follow the last good line', async () => {
    const file = fresh()
    await file.open()
    await file.append([put(1, 1, 'a'), put(2, 1, 'b')])
    await file.close()
    appendFileSync(file.path, '{"i":3,"e":1,"o":"put","k":"k3","v":"Y')
    const reopened = new LogFile({ dir: join(file.path, '..'), fsync: 'always', fsyncIntervalMs: 5 })
    expect((await reopened.open()).log.lastIndex).toBe(2)
    await reopened.append([put(3, 1, 'c')])
    await reopened.close()
    const lines = readFileSync(file.path, 'utf8').trim().split('\n')
    expect(lines).toHaveLength(3)
    expect(JSON.parse(lines[2]!)).toMatchObject({ i: 3, v: Buffer.from('c').toString('base64') })
  })

  it('written() waits for everything queued so far', async () => {
    const file = fresh()
    await file.open()
    let done = false
    void file.append([put(1, 1, 'a'), put(2, 1, 'b')]).then(() => { done = true })
    await file.written()
    expect(done).toBe(true)
    expect(readFileSync(file.path, 'utf8').split('\n')).toHaveLength(3)
    await file.close()
  })

  it('compaction writes the snapshot and a log file holding only later entries; both are read back', async () => {
    const file = fresh()
    await file.open()
    await file.append([put(1, 1, 'a'), put(2, 1, 'b'), put(3, 1, 'c')])
    const compacted = file.compact({ index: 2, epoch: 1, entries: [{ key: 'k1', value: Buffer.from('a'), version: 1 }, { key: 'k2', value: Buffer.from('b'), version: 2 }] }, [put(3, 1, 'c')])
    const after = file.append([put(4, 1, 'd')])
    await Promise.all([compacted, after])
    await file.close()
    expect(readFileSync(file.path, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { i: number }).i)).toEqual([3, 4])
    const reopened = new LogFile({ dir: join(file.path, '..'), fsync: 'always', fsyncIntervalMs: 5 })
    const { log, snapshot } = await reopened.open()
    expect(snapshot?.index).toBe(2)
    expect(snapshot?.entries.map((e) => e.key)).toEqual(['k1', 'k2'])
    expect(log.base).toBe(2)
    expect(log.lastIndex).toBe(4)
    expect(log.entry(2)).toBeUndefined()
    expect(log.entry(4)?.value?.toString()).toBe('d')
    await reopened.close()
  })
})
