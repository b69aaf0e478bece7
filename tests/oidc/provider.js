// A real OpenID Provider for the SSO tests (tests/sso_provider.py starts it): oidc-provider on
// a free loopback port, with its development login form (any account id, any password) and
// consent form. It prints "listening <port>" once it serves discovery.
//
// Environment:
//   OIDC_ACCOUNTS   a JSON file {accountId: {email, email_verified, name}} read at every sign-in,
//                   so a test decides who the provider says a person is (sub = the account id)
//   OIDC_RP_BASE    where Rungs runs in the tests (its redirect and post-logout URIs)
//
// Clients: "rungs" is Rungs as it should be registered. "rungs-wrong-audience" and
// "rungs-expired" are registered the same way, but their ID tokens come out of the token
// endpoint re-signed with the provider's own key: one for the other client ("other-app", the
// second client here), one already expired. So the signature is valid and only the audience or
// the expiry is wrong, which is what a relying party must catch.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import { SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

const accountsFile = process.env.OIDC_ACCOUNTS;
const rpBase = process.env.OIDC_RP_BASE || 'http://localhost';
const SECRET = 'rungs-test-client-secret';

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };

const relyingParty = (clientId) => ({
  client_id: clientId,
  client_secret: SECRET,
  redirect_uris: [`${rpBase}/login/sso/callback`],
  post_logout_redirect_uris: [`${rpBase}/login`],
  grant_types: ['authorization_code'],
  response_types: ['code'],
});

// How the token endpoint's ID token is spoiled for the two test clients.
const spoil = {
  'rungs-wrong-audience': (claims) => ({ ...claims, aud: 'other-app', azp: 'other-app' }),
  'rungs-expired': (claims) => {
    const now = Math.floor(Date.now() / 1000);
    return { ...claims, iat: now - 7200, auth_time: now - 7200, exp: now - 3600 };
  },
};

function findAccount(ctx, id) {
  const accounts = JSON.parse(readFileSync(accountsFile, 'utf8'));
  const account = accounts[id];
  if (!account) return undefined;
  return { accountId: id, claims: () => ({ sub: id, ...account }) };
}

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const provider = new Provider(`http://127.0.0.1:${port}`, {
    clients: [
      relyingParty('rungs'),
      relyingParty('rungs-wrong-audience'),
      relyingParty('rungs-expired'),
      {
        client_id: 'other-app',
        client_secret: 'other-app-secret',
        redirect_uris: ['http://127.0.0.1/other-app/callback'],
      },
    ],
    findAccount,
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    jwks: { keys: [signingKey] },
    cookies: { keys: ['rungs-test-cookie-key'] },
    pkce: { required: () => true }, // Rungs must send an S256 code challenge
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  });
  provider.use(async (ctx, next) => {
    await next();
    const change = spoil[ctx.oidc?.client?.clientId];
    if (ctx.oidc?.route !== 'token' || !change || !ctx.body?.id_token) return;
    const header = decodeProtectedHeader(ctx.body.id_token);
    const claims = change(decodeJwt(ctx.body.id_token));
    const idToken = await new SignJWT(claims).setProtectedHeader(header).sign(privateKey);
    ctx.body = { ...ctx.body, id_token: idToken };
  });
  server.on('request', provider.callback());
  process.stdout.write(`listening ${port}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
