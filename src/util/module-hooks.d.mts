// Types of module-hooks.mjs (plain JavaScript: it runs before any TypeScript loader exists).

/** A resolution as Node's module hooks pass it along. */
export interface Resolved {
  url: string
  format?: string | null
  shortCircuit?: boolean
}

/** The resolve hook for module.register (asynchronous chain). */
export function resolve(specifier: string, context: object, nextResolve: (specifier: string, context: object) => Promise<Resolved>): Promise<Resolved>

/** The resolve hook for module.registerHooks (synchronous chain, in the loading thread). */
export function resolveSync(specifier: string, context: object, nextResolve: (specifier: string, context: object) => Resolved): Resolved

/**
 * Registers flowhouse's module resolution hooks in the calling thread, once: in-thread
 * (module.registerHooks) when `beforeTypeScript` says no TypeScript loader is registered yet and
 * Node has it, else through module.register. Never throws.
 */
export function registerResolutionHooks(options?: { beforeTypeScript?: boolean }): void
