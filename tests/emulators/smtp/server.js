// A real SMTP server (npm smtp-server) for da's tests: stores every received message.
//
// Usage: node server.js <mail dir>   (configuration from the environment)
//   SMTP_USER, SMTP_PASS   when set, AUTH is required and must match (PLAIN/LOGIN)
//   SMTP_TLS_CERT, SMTP_TLS_KEY  PEM files: offer STARTTLS with this certificate
//                          (without them STARTTLS is not offered)
//   SMTP_SECURE=1          implicit TLS (smtps) instead, with the same certificate
//   SMTP_HOST              listen address (default 127.0.0.1)
// Listens on SMTP_HOST (127.0.0.1) with an OS-chosen port and prints one line when ready: {"port":<port>}
// Each message becomes <mail dir>/<n>.json (written to a temp name, then renamed, so a reader
// never sees half a file): {"mail_from","rcpt_to":[...],"auth_user","secure","raw"} where raw is
// the message exactly as received after the DATA command (dot-unstuffed, CRLF line ends).
const fs = require('node:fs');
const path = require('node:path');
const { SMTPServer } = require('smtp-server');

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node server.js <mail dir>');
  process.exit(2);
}
fs.mkdirSync(dir, { recursive: true });
const user = process.env.SMTP_USER;
const pass = process.env.SMTP_PASS;
const tls = process.env.SMTP_TLS_CERT
  ? { cert: fs.readFileSync(process.env.SMTP_TLS_CERT), key: fs.readFileSync(process.env.SMTP_TLS_KEY) }
  : null;
let count = 0;

const server = new SMTPServer({
  secure: Boolean(tls && process.env.SMTP_SECURE === '1'),
  ...(tls || {}),
  disabledCommands: tls ? [] : ['STARTTLS'],
  authOptional: !user,
  allowInsecureAuth: true,
  authMethods: ['PLAIN', 'LOGIN'],
  logger: false,
  onAuth(auth, session, callback) {
    if (auth.username === user && auth.password === pass) return callback(null, { user: auth.username });
    return callback(new Error('Invalid username or password'));
  },
  onData(stream, session, callback) {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => {
      count += 1;
      const record = {
        mail_from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        rcpt_to: session.envelope.rcptTo.map((r) => r.address),
        auth_user: session.user || '',
        secure: Boolean(session.secure),
        raw: Buffer.concat(chunks).toString('utf8'),
      };
      const name = `${String(count).padStart(6, '0')}.json`;
      fs.writeFileSync(path.join(dir, `.${name}.tmp`), JSON.stringify(record));
      fs.renameSync(path.join(dir, `.${name}.tmp`), path.join(dir, name));
      callback();
    });
  },
});
server.on('error', (err) => console.error('smtp error', err.message));
server.listen(0, process.env.SMTP_HOST || '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.server.address().port })}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
