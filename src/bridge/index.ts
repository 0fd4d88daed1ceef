/**
 * `portcullis/bridge`: a stdio MCP server that forwards to a remote OAuth-protected Streamable
 * HTTP MCP server, for MCP hosts that only speak stdio. Node only.
 *
 * @module
 */
export * from './environment-credentials.js'
export * from './errors.js'
export * from './first-login-gate.js'
export * from './run-stdio-bridge.js'
export * from './static-token-fetch.js'
export * from './stdio-bridge.js'
