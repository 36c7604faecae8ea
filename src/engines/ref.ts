// Runtime targets as the user writes them: podman:NAME, containerd:[NAMESPACE/]ID, docker:NAME.
// PURE. Each name is checked against its engine's own rules before any CLI is spawned with it:
// tsnet runs as root, and a name starting with "-" would be read as an option by the engine's CLI.
import { TsnetError } from '../errors.js';
import type { EngineOptions } from '../deps.js';

export const ENGINES = ['podman', 'containerd', 'docker'] as const;
export type EngineName = (typeof ENGINES)[number];

export interface RuntimeRef {
  engine: EngineName;
  /** a container name or id (prefix) as the engine takes it */
  name: string;
  /** containerd's namespace; undefined for podman and docker */
  namespace: string | undefined;
}

/** The target forms, for messages and help. */
export const RUNTIME_FORMS = 'podman:NAME, containerd:[NAMESPACE/]ID or docker:NAME';

/**
 * Podman's and Docker's container names (libpod's NameRegex, moby's RestrictedNamePattern); ids and
 * id prefixes are hex, a subset. Neither engine bounds the length; tsnet takes up to 255.
 */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const NAME_MAX = 255;
/**
 * containerd's identifiers (containerd/identifiers: RFC 1035 labels joined by ".", labels of
 * letters and digits with inner "-", starting with a letter or digit, 76 characters at most),
 * for both container ids and namespaces. (containerd's pattern also lets ":" slip in before a
 * dash by a typo; tsnet does not.)
 */
const CONTAINERD_LABEL = '[A-Za-z0-9]+(?:-+[A-Za-z0-9]+)*';
const CONTAINERD_RE = new RegExp(`^${CONTAINERD_LABEL}(?:\\.${CONTAINERD_LABEL})*$`);
const CONTAINERD_MAX = 76;

/** Text quoted for a one-line message: JSON escapes, and DEL, C1 and bidi controls as \u escapes. */
export const quote = (text: string): string =>
  JSON.stringify(text).replace(/[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const usage = (message: string, hint?: string) => new TsnetError('TSNET_USAGE', message, hint === undefined ? {} : { hint });

function checkName(engine: 'podman' | 'docker', name: string, target: string): void {
  if (name === '') throw usage(`invalid target ${quote(target)}: no ${engine} container name after "${engine}:"`, `give ${engine}:NAME`);
  if (name.startsWith('-')) throw usage(`invalid target ${quote(target)}: a ${engine} container name cannot start with "-"`);
  if (name.length > NAME_MAX) throw usage(`invalid target ${quote(target)}: a ${engine} container name is at most ${NAME_MAX} characters`);
  if (!NAME_RE.test(name)) {
    throw usage(`invalid target ${quote(target)}: a ${engine} container name or id is letters, digits, "_", "." and "-", starting with a letter or digit`);
  }
}

function checkContainerd(what: 'namespace' | 'container id', id: string, target: string): void {
  if (id === '') throw usage(`invalid target ${quote(target)}: empty containerd ${what}`, 'give containerd:ID or containerd:NAMESPACE/ID');
  if (id.startsWith('-')) throw usage(`invalid target ${quote(target)}: a containerd ${what} cannot start with "-"`);
  if (id.length > CONTAINERD_MAX) throw usage(`invalid target ${quote(target)}: a containerd ${what} is at most ${CONTAINERD_MAX} characters`);
  if (!CONTAINERD_RE.test(id)) {
    throw usage(`invalid target ${quote(target)}: a containerd ${what} is letters and digits, with "-" and "." only between them`);
  }
}

/**
 * The runtime target `text` names, or undefined when it names none (no ":": a tsnet container,
 * whose names never contain one). Throws TSNET_USAGE for an unknown engine or a name that engine
 * would not accept. `defaultNamespace` is containerd's namespace when the target gives none.
 */
export function parseRuntimeRef(text: string, defaultNamespace = 'default'): RuntimeRef | undefined {
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  const engine = text.slice(0, colon);
  const rest = text.slice(colon + 1);
  if (engine === 'podman' || engine === 'docker') {
    checkName(engine, rest, text);
    return { engine, name: rest, namespace: undefined };
  }
  if (engine === 'containerd') {
    const slash = rest.indexOf('/');
    const namespace = slash < 0 ? defaultNamespace : rest.slice(0, slash);
    const id = slash < 0 ? rest : rest.slice(slash + 1);
    checkContainerd('namespace', namespace, text);
    checkContainerd('container id', id, text);
    return { engine, name: id, namespace };
  }
  throw usage(`invalid target ${quote(text)}: unknown container engine ${quote(engine)}`, `a target is a tsnet container, ${RUNTIME_FORMS}`);
}

/** Which engine each connection option belongs to, and its command-line spelling. */
const OPTION_ENGINES: Record<keyof EngineOptions, [EngineName, string]> = {
  podmanRoot: ['podman', '--podman-root'],
  podmanRunroot: ['podman', '--podman-runroot'],
  containerdAddress: ['containerd', '--containerd-address'],
  dockerHost: ['docker', '--docker-host'],
};

/** An absolute path a CLI can take as an option value: no line breaks or control characters. */
const PATH_RE = /^\/[^\x00-\x1f\x7f]*$/;
/** Docker's daemon address forms. */
const DOCKER_HOST_RE = /^(?:unix|tcp|ssh|fd):\/\/[^\s\x00-\x1f\x7f]+$/;
const OPTION_MAX = 4096;

/** Whether `value` can be given to a CLI as a path option: absolute, one line, no control characters. */
export const isPathOption = (value: string): boolean => value.length <= OPTION_MAX && PATH_RE.test(value);

/**
 * Checks the engine connection options against the target's engine (undefined: not a runtime
 * target) and their values, before anything is spawned. Throws TSNET_USAGE.
 */
export function checkEngineOptions(engine: EngineName | undefined, opts: EngineOptions): void {
  for (const key of Object.keys(OPTION_ENGINES) as Array<keyof EngineOptions>) {
    const value = opts[key];
    if (value === undefined) continue;
    const [owner, flag] = OPTION_ENGINES[key];
    if (owner !== engine) {
      throw usage(`${flag} is for ${owner}: targets only`, engine === undefined ? `this target is not a ${owner} container` : `the target is a ${engine} container`);
    }
    const ok = key === 'dockerHost' ? value.length <= OPTION_MAX && DOCKER_HOST_RE.test(value) : isPathOption(value);
    if (!ok) {
      throw usage(
        `invalid ${flag} ${quote(value)}: ${key === 'dockerHost' ? 'expected unix:///PATH, tcp://HOST:PORT, ssh://HOST or fd://' : 'expected an absolute path'}`,
      );
    }
  }
}
