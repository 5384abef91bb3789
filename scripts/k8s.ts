import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { topology } from '../topology.js'
import { fileText, kustomizationText, renderManifests } from './k8s/manifests.js'

/** `npm run k8s`: writes deploy/k8s (one JSON List per component, and kustomization.yaml) from the topology. */
const dir = resolve(import.meta.dirname, '../..', 'deploy/k8s')
mkdirSync(dir, { recursive: true })
const files = renderManifests(topology)
// a service removed from the topology must not leave its manifest behind
for (const name of readdirSync(dir)) if (name.endsWith('.json')) rmSync(join(dir, name))
for (const file of files) writeFileSync(join(dir, `${file.name}.json`), fileText(file))
writeFileSync(join(dir, 'kustomization.yaml'), kustomizationText(files))
process.stdout.write(`wrote ${files.length} manifests and kustomization.yaml to ${dir}\n`)
