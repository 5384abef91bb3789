import type { Redis } from '../redis.js'
import type { RegistryKeys } from './types.js'

// for each instance key in KEYS[2..]: if it is gone, remove its id (ARGV[i - 1]) from the set KEYS[1]
const script = `
local removed = 0
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then removed = removed + redis.call('SREM', KEYS[1], ARGV[i - 1]) end
end
return removed`

/**
 * Drops from the id set each id whose registration key is gone, checked and removed in one
 * atomic step. A refresh reads the keys first and removes later: meanwhile a lapsed instance
 * may register again (after a failover, every instance does at once). A plain SREM would then
 * remove a live registration's id, and as its heartbeat only renews the key's TTL, no watcher
 * would list the instance again until its key lapsed once more.
 *
 * Resolves with how many ids were removed.
 */
export async function removeLapsed (redis: Redis, keys: RegistryKeys, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0
  return Number(await redis.eval(script, ids.length + 1, keys.ids, ...ids.map((id) => keys.instance(id)), ...ids))
}
