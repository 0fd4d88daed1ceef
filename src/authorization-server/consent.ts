/**
 * A user's consent to a client: looked up when remembered, saved when the user asks, audited when
 * granted. It is keyed by user, client, resource and the exact redirect URI, so a consent given to
 * one redirect URI of a client never answers for another (anchors S13).
 *
 * @module
 */
import { hasScopes } from '../protocol/scope.js'
import type { ConsentKey } from '../storage/types.js'
import type { Client, ServerContext } from './context.js'
import type { ResolvedResource } from './options.js'

/** What a user consents to: a client's access to a resource, through one redirect URI. */
export interface Consent {
  subject: string
  client: Client
  resource: ResolvedResource
  redirectUri: string
  scopes: string[]
}

function keyOf(consent: Consent): ConsentKey {
  return {
    subject: consent.subject,
    client_id: consent.client.client_id,
    resource: consent.resource.uri,
    redirect_uri: consent.redirectUri,
  }
}

/** Whether a remembered, unexpired consent covers every scope of `consent`. */
export async function isConsentRemembered(
  ctx: ServerContext,
  consent: Consent,
  now: number,
): Promise<boolean> {
  const remembered = await ctx.store.consents.get(keyOf(consent), now)
  return remembered !== undefined && hasScopes(remembered.scopes, consent.scopes)
}

/**
 * Records a granted consent: saved for later requests when `save` (the user ticked "remember"),
 * then audited as `consent.granted`, `remembered` when it was given earlier and found saved.
 */
export async function grantConsent(
  ctx: ServerContext,
  consent: Consent,
  now: number,
  how: { save: boolean; remembered: boolean },
): Promise<void> {
  if (how.save) {
    await ctx.store.consents.put(keyOf(consent), {
      scopes: consent.scopes,
      created_at: now,
      expires_at: now + ctx.lifetimes.consent,
    })
  }
  ctx.audit({
    type: 'consent.granted',
    at: now,
    subject: consent.subject,
    client_id: consent.client.client_id,
    resource: consent.resource.uri,
    scopes: consent.scopes,
    remembered: how.remembered,
  })
}
