import type { AppendReply, AppendRequest, AppliedWrite, Entry, Precondition, Snapshot, SnapshotRequest } from './types.js'

type WireTags = '*' | number[]

const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0

/** An entry as JSON: short names, the value in base64. Used by the log file and replication. */
export interface WireEntry { i: number, e: number, o: 'put' | 'del' | 'noop', k?: string, v?: string, c?: { m?: WireTags, n?: WireTags }, r?: string }

export interface WireAppendRequest extends Omit<AppendRequest, 'entries'> { entries: WireEntry[] }

export function toWire (entry: Entry): WireEntry {
  const w: WireEntry = { i: entry.index, e: entry.epoch, o: entry.op }
  if (entry.key !== undefined) w.k = entry.key
  if (entry.value !== undefined) w.v = entry.value.toString('base64')
  if (entry.cond !== undefined) {
    w.c = {}
    if (entry.cond.ifMatch !== undefined) w.c.m = tagsToWire(entry.cond.ifMatch)
    if (entry.cond.ifNoneMatch !== undefined) w.c.n = tagsToWire(entry.cond.ifNoneMatch)
  }
  if (entry.rid !== undefined) w.r = entry.rid
  return w
}

function tagsToWire (tags: 'any' | readonly number[]): WireTags {
  return tags === 'any' ? '*' : [...tags]
}

function tagsFromWire (w: unknown): 'any' | number[] | undefined | null {
  if (w === undefined) return undefined
  if (w === '*') return 'any'
  if (Array.isArray(w) && w.every(isCount)) return w
  return null
}

function condFromWire (c: unknown): Precondition | undefined | null {
  if (c === undefined) return undefined
  if (typeof c !== 'object' || c === null) return null
  const ifMatch = tagsFromWire((c as { m?: unknown }).m)
  const ifNoneMatch = tagsFromWire((c as { n?: unknown }).n)
  if (ifMatch === null || ifNoneMatch === null) return null
  return { ...(ifMatch !== undefined ? { ifMatch } : {}), ...(ifNoneMatch !== undefined ? { ifNoneMatch } : {}) }
}

/** Parses a wire entry, or returns undefined when it is not one. */
export function fromWire (w: unknown): Entry | undefined {
  if (typeof w !== 'object' || w === null) return undefined
  const { i, e, o, k, v, c, r } = w as Partial<WireEntry>
  if (!Number.isSafeInteger(i) || (i as number) < 1 || !Number.isSafeInteger(e) || (e as number) < 0) return undefined
  if (o !== 'put' && o !== 'del' && o !== 'noop') return undefined
  if (o !== 'noop' && typeof k !== 'string') return undefined
  if (v !== undefined && typeof v !== 'string') return undefined
  const cond = condFromWire(c)
  if (cond === null || (cond !== undefined && o === 'noop')) return undefined
  if (r !== undefined && (typeof r !== 'string' || o === 'noop')) return undefined
  return {
    index: i as number,
    epoch: e as number,
    op: o,
    ...(k !== undefined ? { key: k } : {}),
    ...(o === 'put' ? { value: Buffer.from(v ?? '', 'base64') } : {}),
    ...(cond !== undefined ? { cond } : {}),
    ...(r !== undefined ? { rid: r } : {})
  }
}

export function requestToWire (r: AppendRequest): WireAppendRequest {
  return { ...r, entries: r.entries.map(toWire) }
}

/** Validates an append request from the wire; undefined when malformed. */
export function requestFromWire (body: unknown): AppendRequest | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const b = body as Partial<WireAppendRequest>
  if (!isCount(b.epoch) || !isCount(b.prevIndex) || !isCount(b.prevEpoch) || !isCount(b.leaderCommit)) return undefined
  if (typeof b.leaderId !== 'string' || !Array.isArray(b.entries)) return undefined
  const entries: Entry[] = []
  let expected = b.prevIndex + 1
  for (const w of b.entries) {
    const entry = fromWire(w)
    if (entry === undefined || entry.index !== expected++) return undefined
    entries.push(entry)
  }
  return { epoch: b.epoch, leaderId: b.leaderId, prevIndex: b.prevIndex, prevEpoch: b.prevEpoch, leaderCommit: b.leaderCommit, entries }
}

export function replyFromWire (body: unknown): AppendReply | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const b = body as Partial<AppendReply>
  if (typeof b.ok !== 'boolean' || !isCount(b.epoch) || !isCount(b.lastIndex)) return undefined
  return { ok: b.ok, epoch: b.epoch, lastIndex: b.lastIndex }
}

/** A remembered retry key: `a` 1 applied (version = `i`, `c` created) or 0 refused with code `x`. */
interface WireWrite { r: string, i: number, a: 0 | 1, c?: boolean, x?: string, m?: string }

export interface WireSnapshotRequest extends Omit<SnapshotRequest, 'snapshot'> {
  snapshot: { index: number, epoch: number, entries: Array<{ k: string, v: string, n: number }>, w?: WireWrite[] }
}

export function snapshotToWire (snapshot: Snapshot): WireSnapshotRequest['snapshot'] {
  return {
    index: snapshot.index,
    epoch: snapshot.epoch,
    entries: snapshot.entries.map((e) => ({ k: e.key, v: e.value.toString('base64'), n: e.version })),
    w: (snapshot.writes ?? []).map(({ rid, index, result }) => result.applied
      ? { r: rid, i: index, a: 1, c: result.created }
      : { r: rid, i: index, a: 0, x: result.code, m: result.message })
  }
}

function writeFromWire (w: unknown): AppliedWrite | undefined {
  if (typeof w !== 'object' || w === null) return undefined
  const { r, i, a, c, x, m } = w as Partial<WireWrite>
  if (typeof r !== 'string' || !isCount(i)) return undefined
  if (a === 1 && typeof c === 'boolean') return { rid: r, index: i, result: { applied: true, version: i, created: c } }
  if (a === 0 && (x === 'KVL_ERR_NOT_FOUND' || x === 'KVL_ERR_VERSION_MISMATCH') && typeof m === 'string') return { rid: r, index: i, result: { applied: false, code: x, message: m } }
  return undefined
}

/** Parses a snapshot (from the wire or the snapshot file); undefined when malformed. */
export function snapshotFromWire (w: unknown): Snapshot | undefined {
  if (typeof w !== 'object' || w === null) return undefined
  const b = w as Partial<WireSnapshotRequest['snapshot']>
  if (!isCount(b.index) || !isCount(b.epoch) || !Array.isArray(b.entries)) return undefined
  const entries: Snapshot['entries'] = []
  for (const e of b.entries as unknown[]) {
    const { k, v, n } = (e ?? {}) as { k?: unknown, v?: unknown, n?: unknown }
    if (typeof k !== 'string' || typeof v !== 'string' || !isCount(n)) return undefined
    entries.push({ key: k, value: Buffer.from(v, 'base64'), version: n })
  }
  const writes: AppliedWrite[] = []
  for (const w of Array.isArray(b.w) ? b.w as unknown[] : []) {
    const write = writeFromWire(w)
    if (write === undefined) return undefined
    writes.push(write)
  }
  return { index: b.index, epoch: b.epoch, entries, writes }
}

export function snapshotRequestToWire (r: SnapshotRequest): WireSnapshotRequest {
  return { ...r, snapshot: snapshotToWire(r.snapshot) }
}

export function snapshotRequestFromWire (body: unknown): SnapshotRequest | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const b = body as Partial<WireSnapshotRequest>
  if (!isCount(b.epoch) || !isCount(b.leaderCommit) || typeof b.leaderId !== 'string') return undefined
  const snapshot = snapshotFromWire(b.snapshot)
  if (snapshot === undefined) return undefined
  return { epoch: b.epoch, leaderId: b.leaderId, leaderCommit: b.leaderCommit, snapshot }
}
