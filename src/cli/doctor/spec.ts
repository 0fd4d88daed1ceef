/**
 * The spec sections doctor cites, one place for their labels and links.
 *
 * @module
 */
import type { SpecRef } from './finding.js'

const MCP = 'https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization'
const MCP_2026 = 'https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization'

function rfc(number: number, section: string): SpecRef {
  return {
    label: `RFC ${number} §${section}`,
    url: `https://www.rfc-editor.org/rfc/rfc${number}#section-${section}`,
  }
}

function mcp(title: string, anchor: string): SpecRef {
  return { label: `MCP 2025-11-25 authorization: ${title}`, url: `${MCP}#${anchor}` }
}

/** Citations, keyed by what they are about. */
export const SPEC = {
  rfc6750Challenge: rfc(6750, '3'),
  rfc6750Errors: rfc(6750, '3.1'),
  rfc9110Status401: rfc(9110, '15.5.2'),
  rfc9110WwwAuthenticate: rfc(9110, '11.6.1'),
  rfc9728Prm: rfc(9728, '2'),
  rfc9728WellKnown: rfc(9728, '3.1'),
  rfc9728Validation: rfc(9728, '3.3'),
  rfc9728Header: rfc(9728, '5.1'),
  rfc8414Metadata: rfc(8414, '2'),
  rfc8414WellKnown: rfc(8414, '3.1'),
  rfc8414Validation: rfc(8414, '3.3'),
  rfc7591Registration: rfc(7591, '3'),
  rfc7636Pkce: rfc(7636, '4.2'),
  rfc9207Metadata: rfc(9207, '3'),
  rfc9207Validation: rfc(9207, '2.4'),
  rfc8707Resource: rfc(8707, '2'),
  rfc6750Bearer: rfc(6750, '2.1'),
  oauth21Code: {
    label: 'OAuth 2.1 §4.1',
    url: 'https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-4.1',
  },
  oidcDiscovery: {
    label: 'OpenID Connect Discovery 1.0 §4',
    url: 'https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig',
  },
  cimd: {
    label: 'OAuth Client ID Metadata Document §5',
    url: 'https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document-00#section-5',
  },
  oauth21Tls: {
    label: 'OAuth 2.1 §1.5',
    url: 'https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-1.5',
  },
  fetchCors: {
    label: 'Fetch Standard: CORS protocol',
    url: 'https://fetch.spec.whatwg.org/#http-cors-protocol',
  },
  mcpProtocolVersionHeader: {
    label: 'MCP 2025-11-25 transports: Protocol Version Header',
    url: 'https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#protocol-version-header',
  },
  mcpAsLocation: mcp('Authorization Server Location', 'authorization-server-location'),
  mcpPrmDiscovery: mcp(
    'Protected Resource Metadata Discovery Requirements',
    'protected-resource-metadata-discovery-requirements',
  ),
  mcpAsDiscovery: mcp('Authorization Server Metadata Discovery', 'authorization-server-metadata-discovery'),
  mcpScopeSelection: mcp('Scope Selection Strategy', 'scope-selection-strategy'),
  mcpClientRegistration: mcp('Client Registration Approaches', 'client-registration-approaches'),
  mcpCimd: mcp('Client ID Metadata Documents', 'client-id-metadata-documents'),
  mcpDcr: mcp('Dynamic Client Registration', 'dynamic-client-registration'),
  mcpPkce: mcp('Authorization Code Protection', 'authorization-code-protection'),
  mcpTls: mcp('Communication Security', 'communication-security'),
  mcpTokenUsage: mcp('Access Token Usage', 'access-token-usage'),
  mcpFlowSteps: mcp('Authorization Flow Steps', 'authorization-flow-steps'),
  mcpAudience: mcp('Token Audience Binding and Validation', 'token-audience-binding-and-validation'),
  mcpHeaderRequired: {
    label: 'MCP 2025-06-18 authorization: Authorization Server Location',
    url: 'https://modelcontextprotocol.io/specification/2025-06-18/basic/authorization#authorization-server-location',
  },
  mcp2026Iss: { label: 'MCP 2026-07-28 authorization (RFC 9207 `iss`)', url: MCP_2026 },
  mcp2026OfflineAccess: { label: 'MCP 2026-07-28 authorization (offline_access, SEP-2207)', url: MCP_2026 },
} as const satisfies Record<string, SpecRef>
