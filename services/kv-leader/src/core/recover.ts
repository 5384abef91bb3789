import { ReplicationLog } from './log.js'
import { fromWire } from './wire.js'

export interface Recovered {
  log: ReplicationLog
  /** Bytes of the file that parsed; anything after (a torn last write) should be cut off. */
  goodBytes: number
  /** Lines dropped at the tail. */
  dropped: number
}

/**
 * Rebuilds the log from the file's text: one JSON line per entry, `{"t": n}` for "truncate from
 * n". Stops at the first line that does not parse or does not follow (a write cut short by a
 * crash); a last line without its newline never counts.
 */
export function recoverLog (text: string, base?: { index: number, epoch: number }): Recovered {
  const log = new ReplicationLog()
  if (base !== undefined) log.resetTo(base.index, base.epoch)
  const parts = text.split('\n')
  const complete = parts.slice(0, -1)
  const torn = parts.at(-1) === '' ? 0 : 1
  let goodBytes = 0
  let used = 0
  for (const line of complete) {
    if (!applyLine(log, line)) break
    goodBytes += Buffer.byteLength(line) + 1
    used++
  }
  return { log, goodBytes, dropped: complete.length - used + torn }
}

function applyLine (log: ReplicationLog, line: string): boolean {
  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch {
    return false
  }
  if (typeof parsed === 'object' && parsed !== null && 't' in parsed) {
    const from = (parsed as { t: unknown }).t
    if (!Number.isSafeInteger(from) || (from as number) < 1) return false
    if ((from as number) > log.base) log.truncateFrom(from as number)
    return true
  }
  const entry = fromWire(parsed)
  if (entry === undefined || entry.index > log.lastIndex + 1) return false
  // lines the snapshot covers (a crash between writing it and rewriting the log file)
  if (entry.index <= log.base) return true
  if (entry.index <= log.lastIndex) log.truncateFrom(entry.index)
  log.append(entry)
  return true
}
