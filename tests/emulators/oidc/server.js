// A real OpenID Connect provider (npm oidc-provider) for da's tests.
//
// Usage: node server.js  (configuration from the environment)
//   OIDC_CLIENTS   JSON array of clients: [{client_id, client_secret, redirect_uris,
//                  token_endpoint_auth_method?, id_token_signed_response_alg? ("RS256"|"ES256")}]
//   OIDC_TLS_CERT, OIDC_TLS_KEY  PEM files: serve https (else plain http on 127.0.0.1)
//   OIDC_CLAIMS_IN_USERINFO=1    email/profile/groups claims only at userinfo, not in the ID token
//   OIDC_ACCOUNTS  JSON object: login name -> claims that replace the defaults below for that
//                  login, e.g. {"mallory": {"email": "alice@example.test", "email_verified": false},
//                  "gw": {"hd": "corp.example.test"}}; a claim set to null is left out
// Listens on 127.0.0.1 with an OS-chosen port and prints one line when ready:
//   {"issuer":"http(s)://127.0.0.1:<port>","port":<port>}
// Sign-in uses oidc-provider's development interactions: any login name with any password;
// the account's claims are email "<login>@example.test", email_verified true, name "User <login>",
// groups ["analysts", "<login>-team"], unless OIDC_ACCOUNTS says otherwise; `sub` is the login.
// Scopes: openid email profile groups (the email scope also carries Google's `hd`).
import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const accounts = JSON.parse(process.env.OIDC_ACCOUNTS || '{}');
const clients = JSON.parse(process.env.OIDC_CLIENTS || '[]').map((c) => ({
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  ...c,
}));

function signingKey(type, options, alg) {
  const { privateKey } = crypto.generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), kid: `${alg.toLowerCase()}-${crypto.randomUUID()}`, alg, use: 'sig' };
}
const jwks = {
  keys: [signingKey('rsa', { modulusLength: 2048 }, 'RS256'), signingKey('ec', { namedCurve: 'P-256' }, 'ES256')],
};

const tls = process.env.OIDC_TLS_CERT
  ? { cert: fs.readFileSync(process.env.OIDC_TLS_CERT), key: fs.readFileSync(process.env.OIDC_TLS_KEY) }
  : null;
const server = tls ? https.createServer(tls) : http.createServer();

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients,
    jwks,
    scopes: ['openid', 'email', 'profile', 'groups'],
    claims: { openid: ['sub'], email: ['email', 'email_verified', 'hd'], profile: ['name'], groups: ['groups'] },
    // By default the scope claims go into the ID token, as Google does; OIDC_CLAIMS_IN_USERINFO=1
    // keeps them at the userinfo endpoint only (Keycloak/Entra-like, the spec's default).
    conformIdTokenClaims: process.env.OIDC_CLAIMS_IN_USERINFO === '1',
    pkce: { required: () => true, methods: ['S256'] },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    features: { devInteractions: { enabled: true } },
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256'] },
    async findAccount(ctx, id) {
      return {
        accountId: id,
        async claims() {
          const claims = {
            email: `${id}@example.test`, email_verified: true, name: `User ${id}`, groups: ['analysts', `${id}-team`],
            ...(accounts[id] || {}),
            sub: id,
          };
          for (const k of Object.keys(claims)) if (claims[k] === null) delete claims[k];
          return claims;
        },
      };
    },
  });
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
});

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
