import { inputIdPattern } from './types.js'

/**
 * The ids the feed acknowledged, from JSON lines: a chaos run's history (records with `ackId`),
 * `{"id": …}` lines, or bare ids, one a line. Pure. A line that is none of these is an error
 * naming it, so a wrong file is not mistaken for "nothing was acknowledged".
 */
export function ackedIdsFromLines (text: string): string[] {
  const ids: string[] = []
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim()
    if (line === '') return
    if (inputIdPattern.test(line)) {
      ids.push(line)
      return
    }
    let record: { ackId?: unknown, id?: unknown, seq?: unknown }
    try {
      record = JSON.parse(line) as typeof record
    } catch {
      throw new Error(`line ${i + 1} is neither JSON nor a stream id: ${JSON.stringify(line.slice(0, 80))}`)
    }
    const id = record.ackId ?? (record.seq === undefined ? record.id : undefined)
    if (typeof id === 'string' && inputIdPattern.test(id)) ids.push(id)
    else if (record.seq === undefined) throw new Error(`line ${i + 1} has no stream id in "id" or "ackId"`)
  })
  return ids
}
