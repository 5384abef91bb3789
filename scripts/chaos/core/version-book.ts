/**
 * What the chaos client has learned about each key's versions, so it can send compare-and-set
 * requests (`If-Match`). Pure apart from its own state.
 *
 * A kv-leader version is the log index of the write that stored the value, and the workload's
 * values are unique per write, so every version the client learns (a read's `etag`, a write's
 * answer) names exactly one value: a request `If-Match: "<v>"` is recorded together with that
 * value (`ifValue`), which is what the linearizability checker models.
 */
export interface LearnedVersion { version: number, value: string }

export class VersionBook {
  readonly #values = new Map<string, Map<number, string>>()
  /** Per key, the newest version learned and whether the key held a value at it. */
  readonly #newest = new Map<string, { version: number, value: string | null }>()

  /** A value stored at `version` (a read's etag and body, or a write's answer). */
  learnValue (key: string, version: number, value: string): void {
    const versions = this.#values.get(key) ?? new Map<number, string>()
    versions.set(version, value)
    this.#values.set(key, versions)
    this.#observe(key, version, value)
  }

  /** The key was deleted at `version` (a DELETE's answer). */
  learnDeleted (key: string, version: number): void {
    this.#observe(key, version, null)
  }

  /** The newest value learned for the key, if the newest thing learned is a value. */
  newest (key: string): LearnedVersion | undefined {
    const n = this.#newest.get(key)
    return n === undefined || n.value === null ? undefined : { version: n.version, value: n.value }
  }

  /** An older value of the key than the newest (a compare-and-set that should fail), if any. */
  older (key: string, pick: number): LearnedVersion | undefined {
    const versions = [...(this.#values.get(key) ?? new Map<number, string>())].filter(([v]) => v !== this.#newest.get(key)?.version)
    if (versions.length === 0) return undefined
    const [version, value] = versions[Math.min(versions.length - 1, Math.floor(pick * versions.length))]!
    return { version, value }
  }

  #observe (key: string, version: number, value: string | null): void {
    // answers arrive out of order: the log index says which is newer
    const current = this.#newest.get(key)
    if (current === undefined || version >= current.version) this.#newest.set(key, { version, value })
  }
}

/** The version in an `etag` header (`"12"`, `W/"12"`), if it is one. */
export function versionFromEtag (etag: string | string[] | undefined): number | undefined {
  const raw = Array.isArray(etag) ? etag[0] : etag
  const m = /^(?:W\/)?"(\d{1,15})"$/.exec(raw?.trim() ?? '')
  return m === null ? undefined : Number(m[1])
}
