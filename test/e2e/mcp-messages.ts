/** Streamable HTTP messages for the end-to-end tests, without the SDK client. */

/** A JSON-RPC `tools/call` request body. */
export function toolCall(name: string, id: number, path = '/tmp/a.txt'): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: { path } } })
}

/** Headers of a Streamable HTTP POST. */
export const MCP_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18',
}

/** The text of the first content item of a `tools/call` answer (JSON or a one-event SSE stream). */
export async function toolText(response: Response): Promise<string> {
  const raw = await response.text()
  const json = raw.trimStart().startsWith('{')
    ? raw
    : (raw
        .split('\n')
        .find((line) => line.startsWith('data:'))
        ?.slice(5) ?? '')
  const message = JSON.parse(json) as { result?: { content?: { text?: string }[] }; error?: unknown }
  const text = message.result?.content?.[0]?.text
  if (text === undefined) throw new Error(`no tool result: ${raw.slice(0, 200)}`)
  return text
}
