import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../shared/src/config.js'
import { kvQuorumSpec, validateReplicaSet } from '../../../services/kv-quorum/src/config.js'

describe('kv-quorum config', () => {
  const load = (env: Record<string, string>) => loadConfig(kvQuorumSpec, env)

  it('defaults to N=3, W=2, R=2', () => {
    const config = load({})
    expect(validateReplicaSet(config, 'kv-quorum-2')).toEqual({ self: 'kv-quorum-2', ids: ['kv-quorum-1', 'kv-quorum-2', 'kv-quorum-3'] })
  })

  it('refuses an instance outside the replica set', () => {
    expect(() => validateReplicaSet(load({}), 'kv-quorum-9')).toThrow(/not in KVQ_REPLICAS/)
  })

  it('refuses W + R <= N unless eventual', () => {
    expect(() => validateReplicaSet(load({ KVQ_W: '1', KVQ_R: '2' }), 'kv-quorum-1')).toThrow(/KVQ_CONSISTENCY=eventual/)
    expect(() => validateReplicaSet(load({ KVQ_W: '1', KVQ_R: '1', KVQ_CONSISTENCY: 'eventual' }), 'kv-quorum-1')).not.toThrow()
  })

  it('refuses a quorum larger than N', () => {
    expect(() => validateReplicaSet(load({ KVQ_W: '4' }), 'kv-quorum-1')).toThrow(/KVQ_W w must be an integer 1–3/)
  })

  it('reports every bad variable at once', () => {
    let message = ''
    try {
      load({ KVQ_W: 'x', KVQ_REPLICA_TIMEOUT_MS: '-1', KVQ_CONSISTENCY: 'strong' })
    } catch (err) {
      message = (err as Error).message
    }
    for (const name of ['KVQ_W', 'KVQ_REPLICA_TIMEOUT_MS', 'KVQ_CONSISTENCY']) expect(message).toContain(name)
  })
})
