/**
 * `portcullis/client`: MCP authorization for any MCP client. {@link createMcpAuthClient} is the
 * entry point; the protocol steps it is composed of are exported for hosts that orchestrate
 * themselves.
 *
 * @module
 */
export * from './authorization.js'
export * from './challenge.js'
export * from './credential-store.js'
export * from './endpoint-policy.js'
export * from './errors.js'
export * from './flow.js'
export * from './redirect.js'
export * from './registration.js'
export * from './resource-discovery.js'
export * from './scope-selection.js'
export * from './server-discovery.js'
export * from './token.js'
