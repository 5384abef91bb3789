import { createHash } from 'node:crypto'

/** SHA-256 applied `rounds` times, each round hashing the previous digest: cost grows linearly with rounds. */
export function iteratedSha256 (input: string, rounds: number): string {
  let digest: Buffer = createHash('sha256').update(input).digest()
  for (let i = 1; i < rounds; i++) digest = createHash('sha256').update(digest).digest()
  return digest.toString('hex')
}
