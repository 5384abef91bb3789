/** A Kubernetes object as plain data; the generator writes them as JSON, which kubectl and kustomize read as YAML. */
export interface K8sObject {
  apiVersion: string
  kind: string
  metadata: { name: string, labels?: Record<string, string>, annotations?: Record<string, string> }
  [field: string]: unknown
}

/** One file of deploy/k8s: a `v1 List` of the objects of one component. */
export interface ManifestFile {
  name: string
  objects: K8sObject[]
}
