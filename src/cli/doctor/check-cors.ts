/**
 * Browser-based MCP clients can read the metadata documents: the `GET` carries
 * `Access-Control-Allow-Origin`, and a preflight for the `MCP-Protocol-Version` header that MCP
 * clients send on discovery succeeds.
 *
 * @module
 */
import type { DoctorContext } from './context.js'
import { describeOutcome, PROTOCOL_VERSION, send } from './http.js'
import { SPEC } from './spec.js'

function allowsOrigin(headers: Headers, origin: string): boolean {
  const value = headers.get('access-control-allow-origin')?.trim()
  return value === '*' || value === origin
}

function allowsHeader(headers: Headers, name: string): boolean {
  const value = headers.get('access-control-allow-headers')
  if (value === null) return false
  return value
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .some((item) => item === '*' || item === name)
}

/**
 * @see [Fetch Standard: CORS protocol](https://fetch.spec.whatwg.org/#http-cors-protocol)
 * @see [MCP transports: Protocol Version Header](https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#protocol-version-header)
 */
export async function checkCors(ctx: DoctorContext): Promise<void> {
  const documents: Array<{ what: string; url: string }> = []
  if (ctx.state.prm !== undefined)
    documents.push({ what: 'Protected Resource Metadata', url: ctx.state.prm.url })
  for (const server of ctx.state.authorizationServers) {
    if (server.metadataUrl !== undefined)
      documents.push({ what: 'authorization server metadata', url: server.metadataUrl })
  }
  for (const { what, url } of documents) await checkOne(ctx, what, url)
}

async function checkOne(ctx: DoctorContext, what: string, url: string): Promise<void> {
  const origin = ctx.corsOrigin
  const title = `Browsers can read the ${what} (CORS)`
  const spec = [SPEC.fetchCors, SPEC.mcpProtocolVersionHeader]
  const get = await send(ctx, url, {
    method: 'GET',
    redirect: 'manual',
    headers: { origin, accept: 'application/json', 'mcp-protocol-version': PROTOCOL_VERSION },
  })
  if (get.kind === 'error' || !allowsOrigin(get.headers, origin)) {
    ctx.report({
      id: 'cors',
      status: 'fail',
      title,
      message:
        get.kind === 'error'
          ? `GET with Origin: ${origin} failed: ${describeOutcome(get)}`
          : `GET with Origin: ${origin} got no Access-Control-Allow-Origin: MCP clients that run in a browser (web hosts, MCP Inspector) cannot read it`,
      fix: 'Answer metadata requests with Access-Control-Allow-Origin: * (the documents are public).',
      url,
      spec,
    })
    return
  }
  const preflight = await send(ctx, url, {
    method: 'OPTIONS',
    redirect: 'manual',
    headers: {
      origin,
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'mcp-protocol-version',
    },
  })
  const preflightOk =
    preflight.kind !== 'error' &&
    preflight.status >= 200 &&
    preflight.status < 300 &&
    allowsOrigin(preflight.headers, origin) &&
    allowsHeader(preflight.headers, 'mcp-protocol-version')
  if (!preflightOk) {
    ctx.report({
      id: 'cors',
      status: 'warn',
      title,
      message: `GET is readable, but the OPTIONS preflight for MCP-Protocol-Version got ${
        preflight.kind === 'error'
          ? describeOutcome(preflight)
          : `${preflight.status}${allowsOrigin(preflight.headers, origin) ? '' : ' without Access-Control-Allow-Origin'}${
              allowsHeader(preflight.headers, 'mcp-protocol-version')
                ? ''
                : ' without mcp-protocol-version in Access-Control-Allow-Headers'
            }`
      }; browser clients must retry without the header`,
      fix: 'Answer OPTIONS on the metadata with 204, Access-Control-Allow-Origin: *, Access-Control-Allow-Methods: GET, OPTIONS and Access-Control-Allow-Headers: mcp-protocol-version.',
      url,
      spec,
    })
    return
  }
  ctx.report({
    id: 'cors',
    status: 'pass',
    title,
    message: 'GET and the OPTIONS preflight allow any origin and the MCP-Protocol-Version header',
    url,
    spec,
  })
}
