// The container engines' connection options, shared by the commands that take a target
// (diagnose, resolve --in): one named option per engine flag, so --help lists them and each value
// is checked against the engine of the target it is given with (src/engines/ref.ts).
import type { Command } from 'commander';
import type { EngineOptions } from '../deps.js';

export interface EngineCliOptions {
  podmanRoot?: string;
  podmanRunroot?: string;
  containerdAddress?: string;
  dockerHost?: string;
}

/** The target forms, for argument help. */
export const TARGET_HELP = 'a tsnet container (name or id), podman:NAME, containerd:[NAMESPACE/]ID (Kubernetes: containerd:k8s.io/ID) or docker:NAME';

export function addEngineOptions(command: Command): Command {
  return command
    .option('--podman-root <dir>', 'for a podman: target, Podman\'s storage root (podman --root); CONTAINERS_CONF and CONTAINERS_STORAGE_CONF are passed through')
    .option('--podman-runroot <dir>', 'for a podman: target, Podman\'s state directory (podman --runroot)')
    .option('--containerd-address <socket>', 'for a containerd: target, containerd\'s socket (ctr --address; default $CONTAINERD_ADDRESS, else /run/containerd/containerd.sock)')
    .option('--docker-host <url>', 'for a docker: target, the Docker daemon (docker --host; default $DOCKER_HOST, else the docker CLI\'s own)');
}

export function engineOptions(o: EngineCliOptions): EngineOptions {
  return { podmanRoot: o.podmanRoot, podmanRunroot: o.podmanRunroot, containerdAddress: o.containerdAddress, dockerHost: o.dockerHost };
}
