/**
 * A minimal browser for the authorization server's login and consent pages: follows redirects
 * with a cookie jar, fills and posts the forms. Enough to automate the browser step of a login
 * in a test, through real HTTP on 127.0.0.1.
 */

function decode(value: string): string {
  return value
    .replaceAll('&amp;', '&')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
}

function formOf(html: string, base: string): { action: string; fields: Record<string, string> } {
  const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/.exec(html)
  if (form === null) throw new Error(`no form in page: ${html.slice(0, 300)}`)
  const fields: Record<string, string> = {}
  for (const input of form[2]!.matchAll(/<input([^>]*)>/g)) {
    const name = /name="([^"]*)"/.exec(input[1]!)?.[1]
    const value = /value="([^"]*)"/.exec(input[1]!)?.[1]
    if (name !== undefined && /type="hidden"/.test(input[1]!)) fields[name] = decode(value ?? '')
  }
  return { action: new URL(decode(form[1]!), base).href, fields }
}

/** Logs in at `authorizationUrl` as `username`, approves (or denies) the consent, and delivers the redirect. */
export async function completeLogin(
  authorizationUrl: string,
  username: string,
  password: string,
  decision: 'approve' | 'deny' = 'approve',
): Promise<void> {
  const cookies = new Map<string, string>()
  const send = async (url: string, init: RequestInit = {}): Promise<Response> => {
    let current = url
    let request = init
    for (let hops = 0; hops < 10; hops++) {
      const headers = new Headers(request.headers)
      if (cookies.size > 0) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '))
      const response = await fetch(current, { ...request, headers, redirect: 'manual' })
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';')
        const index = pair!.indexOf('=')
        cookies.set(pair!.slice(0, index), pair!.slice(index + 1))
      }
      const location = response.headers.get('location')
      if (response.status < 300 || response.status >= 400 || location === null) return response
      current = new URL(location, current).href
      request = {}
    }
    throw new Error('too many redirects')
  }
  const post = (action: string, fields: Record<string, string>) =>
    send(action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(action).origin },
      body: new URLSearchParams(fields).toString(),
    })

  let page = await send(authorizationUrl)
  let html = await page.text()
  if (html.includes('name="password"')) {
    const login = formOf(html, page.url || authorizationUrl)
    page = await post(login.action, { ...login.fields, username, password })
    html = await page.text()
  }
  if (html.includes('name="decision"')) {
    const consent = formOf(html, authorizationUrl)
    page = await post(consent.action, { ...consent.fields, decision })
    await page.text()
  }
}
