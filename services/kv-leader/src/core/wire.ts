import type { AppendReply, AppendRequest, Entry, Snapshot, SnapshotRequest } from './types.js'

/** An entry as JSON: short names, the value in base64. Used by the log file and replication. */
export interface WireEntry { i: number, e: number, o: 'put' | 'del' | 'noop', k?: string, v?: string }

export interface WireAppendRequest extends Omit<AppendRequest, 'entries'> { entries: WireEntry[] }

export function toWire (entry: Entry): WireEntry {
  const w: WireEntry = { i: entry.index, e: entry.epoch, o: entry.op }
  if (entry.key !== undefined) w.k = entry.key
  if (entry.value !== undefined) w.v = entry.value.toString('base64')
  return w
}

/** Parses a wire entry, or returns undefined when it is not one. */
export function fromWire (w: unknown): Entry | undefined {
  if (typeof w !== 'object' || w === null) return undefined
  const { i, e, o, k, v } = w as Partial<WireEntry>
  if (!Number.isSafeInteger(i) || (i as number) < 1 || !Number.isSafeInteger(e) || (e as number) < 0) return undefined
  if (o !== 'put' && o !== 'del' && o !== 'noop') return undefined
  if (o !== 'noop' && typeof k !== 'string') return undefined
  if (v !== undefined && typeof v !== 'string') return undefined
  return { index: i as number, epoch: e as number, op: o, ...(k !== undefined ? { key: k } : {}), ...(o === 'put' ? { value: Buffer.from(v ?? '', 'base64') } : {}) }
}

export function requestToWire (r: AppendRequest): WireAppendRequest {
  return { ...r, entries: r.entries.map(toWire) }
}

const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0

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

export interface WireSnapshotRequest extends Omit<SnapshotRequest, 'snapshot'> {
  snapshot: { index: number, epoch: number, entries: Array<{ k: string, v: string, n: number }> }
}

export function snapshotToWire (snapshot: Snapshot): WireSnapshotRequest['snapshot'] {
  return { index: snapshot.index, epoch: snapshot.epoch, entries: snapshot.entries.map((e) => ({ k: e.key, v: e.value.toString('base64'), n: e.version })) }
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
  return { index: b.index, epoch: b.epoch, entries }
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
