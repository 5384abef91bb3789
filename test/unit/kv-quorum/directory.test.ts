import { describe, expect, it } from 'vitest'
import { ReplicaDirectory } from '../../../services/kv-quorum/src/directory.js'
import type { InstanceRecord } from '../../../shared/src/registry/types.js'

/** The replica set against the registry: where each configured replica is, by what was registered. */
function directoryWith (registered: { now: Array<Pick<InstanceRecord, 'id' | 'url'>> }): ReplicaDirectory {
  const watcher = { instances: () => registered.now.map((r) => ({ ...r, service: 'kv-quorum', role: 'member', startedAt: 0 })) }
  return new ReplicaDirectory({ ids: ['q1', 'q2', 'q3'], self: 'q1', watcher, service: 'kv-quorum' })
}

describe('ReplicaDirectory', () => {
  it('places each configured replica where the registry says, and ignores others', () => {
    const registered = { now: [{ id: 'q1', url: 'http://a' }, { id: 'q2', url: 'http://b' }, { id: 'x', url: 'http://x' }] }
    expect(directoryWith(registered).targets()).toEqual([
      { id: 'q1', url: 'http://a', self: true },
      { id: 'q2', url: 'http://b', self: false },
      { id: 'q3', url: undefined, self: false }
    ])
  })

  it('keeps a replica\'s last known address when its registration lapses (Redis away past the TTL)', () => {
    const registered = { now: [{ id: 'q1', url: 'http://a' }, { id: 'q2', url: 'http://b' }, { id: 'q3', url: 'http://c' }] }
    const directory = directoryWith(registered)
    directory.targets()
    registered.now = [] // a failover promoted a replica on which every registration had expired
    expect(directory.peers().map((p) => p.url)).toEqual(['http://b', 'http://c'])
  })

  it('follows a replica that registers again elsewhere (restarted on another port)', () => {
    const registered = { now: [{ id: 'q2', url: 'http://b' }] }
    const directory = directoryWith(registered)
    directory.targets()
    registered.now = [{ id: 'q2', url: 'http://b2' }]
    expect(directory.urls().get('q2')).toBe('http://b2')
  })
})
