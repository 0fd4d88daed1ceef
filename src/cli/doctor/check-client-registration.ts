/**
 * How a client the authorization server has never seen can get a `client_id`: Client ID
 * Metadata Documents (preferred) or Dynamic Client Registration. Doctor reads the metadata only;
 * it registers nothing.
 *
 * @module
 */
import type { DoctorContext } from './context.js'
import { printable } from './finding.js'
import { SPEC } from './spec.js'

/**
 * @see [MCP Authorization: Client Registration Approaches](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#client-registration-approaches)
 * @see [OAuth Client ID Metadata Document §5](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document-00#section-5)
 * @see [RFC 7591 §3](https://www.rfc-editor.org/rfc/rfc7591#section-3)
 */
export function checkClientRegistration(ctx: DoctorContext): void {
  for (const { metadata, metadataUrl } of ctx.state.authorizationServers) {
    if (metadata === undefined || metadataUrl === undefined) continue
    const cimd = metadata.client_id_metadata_document_supported === true
    const dcr = typeof metadata.registration_endpoint === 'string'
    ctx.report(
      cimd
        ? {
            id: 'as.cimd',
            status: 'pass',
            title: 'Client ID Metadata Documents are supported',
            message: 'client_id_metadata_document_supported: true',
            url: metadataUrl,
            spec: [SPEC.mcpCimd, SPEC.cimd],
          }
        : {
            id: 'as.cimd',
            status: 'warn',
            title: 'Client ID Metadata Documents are supported',
            message: `client_id_metadata_document_supported is ${printable(metadata.client_id_metadata_document_supported ?? 'absent')}: clients cannot use an https URL as their client_id`,
            fix: 'Accept Client ID Metadata Documents and publish "client_id_metadata_document_supported": true (MCP: authorization servers SHOULD).',
            url: metadataUrl,
            spec: [SPEC.mcpCimd, SPEC.cimd],
          },
    )
    if (dcr) {
      ctx.report({
        id: 'as.dcr',
        status: 'pass',
        title: 'Dynamic Client Registration is offered',
        message: `registration_endpoint: ${printable(metadata.registration_endpoint)}`,
        url: metadataUrl,
        spec: [SPEC.mcpDcr, SPEC.rfc7591Registration],
      })
    } else {
      ctx.report({
        id: 'as.dcr',
        status: cimd ? 'pass' : 'warn',
        title: 'Dynamic Client Registration is offered',
        message: cimd
          ? 'no registration_endpoint; clients register through Client ID Metadata Documents'
          : 'no registration_endpoint and no CIMD: only pre-registered clients can connect',
        ...(cimd
          ? {}
          : {
              fix: 'Support Client ID Metadata Documents (preferred), or Dynamic Client Registration with a registration_endpoint.',
            }),
        url: metadataUrl,
        spec: [SPEC.mcpClientRegistration, SPEC.mcpDcr],
      })
    }
  }
}
