// Package charttest checks hookrelay's deployment artefacts: the Helm
// chart (rendered with helm's own Go packages, every object decoded
// strictly into its Kubernetes type, helm lint clean), the Docker build
// command and the compose file. It is its own module so that helm,
// compose-go and k8s.io stay out of the relay's go.mod and race builds.
package charttest
